# Locust load for the calibrate parser tests: closed loop, no wait, user counts 1, 2, 4, 8
# for 5 s each (a LoadTestShape), two request types against validation/calibrate/tiny_server.py.
from locust import HttpUser, LoadTestShape, constant, task


class Visitor(HttpUser):
    wait_time = constant(0)

    @task(4)
    def item(self):
        self.client.get("/item")

    @task(1)
    def search(self):
        self.client.get("/search")


class Steps(LoadTestShape):
    steps = [(5, 1), (10, 2), (15, 4), (20, 8)]

    def tick(self):
        t = self.get_run_time()
        for end, users in self.steps:
            if t < end:
                return users, 100
        return None
