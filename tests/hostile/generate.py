#!/usr/bin/env python3
"""Writes the hostile corpus: tests/hostile/*.toml and *.bin, each a scenario
with one hostile mutation (tests/hostile.rs checks their diagnostics against
the .err beside each). Rerun after editing; the files are committed."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

WORKLOAD = '''[workload]
think_time = { dist = "exponential", mean_s = 5 }

[[workload.request]]
name = "browse"
weight = 1.0
app_cpu = { dist = "lognormal", mean_ms = 8, cv = 1.0 }
db = { dist = "exponential", mean_ms = 2 }
'''
SWEEP = '''[sweep]
users = [10, 100]
'''
PHASE = '''[[phase]]
name = "Base"
app = { hosts = 1, cores_per_host = 2, workers_per_host = 4 }
database = { engine = "postgres", cores = 2 }
'''
NETWORK = '''[[phase]]
name = "Queue"
[[phase.station]]
name = "server"
discipline = "fcfs"
servers = 1
[[phase.resource]]
name = "lines"
capacity = 2
timeout_ms = 100
[phase.plan]
browse = [{ acquire = "lines" }, { use = "server", demand = { dist = "exponential", mean_ms = 10 } }, { release = "lines" }]
'''


def scenario(workload=WORKLOAD, sweep=SWEEP, phase=PHASE, extra=''):
    return 'name = "Hostile"\n\n' + workload + '\n' + sweep + '\n' + phase + extra


def sub(text, old, new):
    assert old in text, (old, text)
    return text.replace(old, new, 1)


def w(old, new):
    return scenario(workload=sub(WORKLOAD, old, new))


def p(old, new):
    return scenario(phase=sub(PHASE, old, new))


def n(old, new):
    return scenario(phase=sub(NETWORK, old, new))


def s(old, new):
    return scenario(sweep=sub(SWEEP, old, new))


SQLITE = 'database = { engine = "sqlite" }'
PG = 'database = { engine = "postgres", cores = 2 }'
THINK = 'think_time = { dist = "exponential", mean_s = 5 }'
DB = 'db = { dist = "exponential", mean_ms = 2 }'
CPU = 'app_cpu = { dist = "lognormal", mean_ms = 8, cv = 1.0 }'

cases = {
    # --- Durations without an upper bound, or below the clock's resolution.
    'think_time_1e308': w('mean_s = 5', 'mean_s = 1e308'),
    'think_time_1e300_constant': w(THINK, 'think_time = { dist = "constant", mean_s = 1e300 }'),
    'uniform_max_1e15_s': w(DB, 'db = { dist = "uniform", min_s = 0, max_s = 1e15 }'),
    'resource_timeout_1e-9_ms': n('timeout_ms = 100', 'timeout_ms = 1e-9'),
    'resource_timeout_zero': n('timeout_ms = 100', 'timeout_ms = 0'),
    'mean_ms_inf': w('mean_ms = 2', 'mean_ms = inf'),
    'mean_ms_nan': w('mean_ms = 2', 'mean_ms = nan'),
    'mean_ms_negative_inf': w('mean_ms = 2', 'mean_ms = -inf'),
    'mean_us_below_a_nanosecond': w('mean_ms = 2', 'mean_us = 1e-6'),
    'mean_us_1e18': w('mean_ms = 8', 'mean_us = 1e18'),
    'app_timeout_zero': p('workers_per_host = 4 }', 'workers_per_host = 4, timeout_s = 0 }'),
    'app_timeout_1e20': p('workers_per_host = 4 }', 'workers_per_host = 4, timeout_s = 1e20 }'),
    'app_timeout_string': p('workers_per_host = 4 }', 'workers_per_host = 4, timeout_s = "30s" }'),
    'app_timeout_nanosecond': p('workers_per_host = 4 }', 'workers_per_host = 4, timeout_s = 1e-9 }'),
    'rtt_ms_1e12': scenario(phase=PHASE + 'network = { rtt_ms = 1e12 }\n'),
    'sqlite_busy_timeout_negative': p(SQLITE if False else PG, 'database = { engine = "sqlite", busy_timeout_ms = -1 }'),
    'sqlite_busy_timeout_10ns': p(PG, 'database = { engine = "sqlite", busy_timeout_ms = 1e-5 }'),
    'wal_flush_inf': p(PG, 'database = { engine = "postgres", cores = 2, wal_flush_ms = inf }'),
    'pooler_query_wait_1e9_s': scenario(phase=PHASE + 'pooler = { query_wait_timeout = 1e9 }\n'),
    'pooler_cpu_ms_1e6': scenario(phase=PHASE + 'pooler = { cpu_ms = 1e6 }\n'),
    'cache_ttl_1e10_s': scenario(
        workload=sub(WORKLOAD, 'weight = 1.0', 'weight = 1.0\ncacheable = true'),
        phase=PHASE + 'cache = { kind = "redis", hit_ratio = 0.5, ttl_s = 1e10 }\n'),
    'replica_ship_delay_1e9_ms': scenario(phase=PHASE + 'replicas = { count = 1, ship_delay_ms = 1e9 }\n'),
    'delay_step_1e30_s': n('{ release = "lines" }', '{ release = "lines" }, { delay = { dist = "constant", mean_s = 1e30 } }'),
    'gamma_cv_1e9': w(CPU, 'app_cpu = { dist = "gamma", mean_ms = 8, cv = 1e9 }'),
    'slo_p95_1e300': scenario(extra='\n[slo]\np95_ms = 1e300\n'),
    'mean_in_two_units_both_huge': w('mean_ms = 2', 'mean_ms = 1e300, mean_s = 1e300'),
    'durations_all_bad_at_once': w(DB, 'db = { dist = "uniform", min_ms = -1, max_ms = inf }'),
    # --- No work at all.
    # A scenario with no work is refused by the sweep's plan, not the loader
    # (it needs the compiled model): tests/data/no_work/ and tests/it/sweep.rs.
    # --- Caps.
    'users_list_1001': s('users = [10, 100]', 'users = [' + ', '.join(str(i) for i in range(1, 1002)) + ']'),
    'users_grid_1001_points': s('users = [10, 100]', 'users = { from = 1, to = 100000, points = 1001 }'),
    'users_grid_points_float': s('users = [10, 100]', 'users = { from = 1, to = 100000, points = 1e9 }'),
    'users_list_and_claims_over_cap': scenario(
        sweep=sub(SWEEP, 'users = [10, 100]', 'users = [' + ', '.join(str(i) for i in range(1, 901)) + ']'),
        extra=''.join(f'\n[[claim]]\nphase = "Base"\nquote = "fast"\nusers = {1000 + i}\nexpect = {{ p95_ms = {{ max = 200 }} }}\n' for i in range(150))),
    'phases_65': scenario(phase=''.join(sub(PHASE, 'name = "Base"', f'name = "P{i}"') + '\n' for i in range(65))),
    'extends_chain_17_links': scenario(phase=PHASE + ''.join(
        f'\n[[phase]]\nname = "L{i + 1}"\nextends = "{"Base" if i == 0 else "L" + str(i)}"\napp = {{ hosts = 1 }}\n' for i in range(17))),
    'errors_60_reported_50': scenario(extra=''.join(
        f'\n[[claim]]\nphase = "Nope{i}"\nquote = "fast"\nusers = 10\nexpect = {{ p95_ms = {{ max = 200 }} }}\n' for i in range(60))),
    'requests_1001': scenario(workload=sub(WORKLOAD, '''[[workload.request]]
name = "browse"
weight = 1.0
''', ''.join(f'[[workload.request]]\nname = "r{i}"\nweight = 0.000999000999000999\n' for i in range(1001)) + '[[workload.request]]\nname = "browse"\nweight = 0.001\n')),
    'resources_65': scenario(phase=sub(NETWORK, '[phase.plan]', ''.join(f'[[phase.resource]]\nname = "r{i}"\ncapacity = 1\n' for i in range(64)) + '[phase.plan]')),
    # --- Messages: serde-level errors with the full dotted path.
    'unknown_app_key': p('cores_per_host = 2', 'cores_per_hosts = 2'),
    'unknown_key_in_second_phase': scenario(phase=PHASE + '\n' + sub(PHASE, 'name = "Base"', 'name = "Next"\nextends = "Base"\ncolour = "red"')),
    'unknown_dist_key': w('mean_ms = 2', 'mean_msec = 2'),
    'users_is_a_string': s('users = [10, 100]', 'users = "many"'),
    'users_grid_unknown_key': s('users = [10, 100]', 'users = { from = 1, to = 10, pointz = 3 }'),
    'users_list_with_float': s('users = [10, 100]', 'users = [10, 2.5, 100]'),
    'users_list_with_string': s('users = [10, 100]', 'users = [10, "20", 100]'),
    'hosts_beyond_i64': p('hosts = 1', 'hosts = 99999999999999999999'),
    'hosts_true': p('hosts = 1', 'hosts = true'),
    'hosts_table': p('hosts = 1', 'hosts = { n = 1 }'),
    'hosts_array': p('hosts = 1', 'hosts = [1]'),
    'hosts_date': p('hosts = 1', 'hosts = 1979-05-27'),
    'seed_beyond_i64': 'seed = 18446744073709551616\n' + scenario(),
    'seed_float': 'seed = 1.5\n' + scenario(),
    'name_is_a_number': scenario().replace('name = "Hostile"', 'name = 5'),
    'request_name_is_a_table': w('name = "browse"', 'name = { first = "browse" }'),
    'cacheable_is_a_string': w('weight = 1.0', 'weight = 1.0\ncacheable = "yes"'),
    'weight_1e308': w('weight = 1.0', 'weight = 1e308'),
    'weights_sum_to_two': scenario(workload=WORKLOAD + '\n[[workload.request]]\nname = "buy"\nweight = 1.0\nkind = "write"\n'),
    'arrival_rate_1e300': w(THINK, 'arrival_rate_per_s = 1e300'),
    'arrival_rate_inf': w(THINK, 'arrival_rate_per_s = inf'),
    'keys_count_1e12': w('[[workload.request]]', 'keys = { count = 1000000000000, zipf = 0.9 }\n\n[[workload.request]]'),
    'keys_zipf_nan': w('[[workload.request]]', 'keys = { count = 1000, zipf = nan }\n\n[[workload.request]]'),
    'cost_usd_1e308': p('cores = 2 }\n', 'cores = 2 }\ncost = [{ item = "VPS", usd_month = 1e308 }]\n'),
    'cost_per_users_float': p('cores = 2 }\n', 'cores = 2 }\ncost = [{ item = "VPS", usd_month = 20, per_users = 2.5 }]\n'),
    'claim_bound_string': scenario(extra='\n[[claim]]\nphase = "Base"\nquote = "fast"\nusers = 10\nexpect = { p95_ms = { max = "200ms" } }\n'),
    'claim_bound_inf': scenario(extra='\n[[claim]]\nphase = "Base"\nquote = "fast"\nusers = 10\nexpect = { p95_ms = { max = inf } }\n'),
    'claim_users_1e12': scenario(extra='\n[[claim]]\nphase = "Base"\nquote = "fast"\nusers = 1000000000000\nexpect = { p95_ms = { max = 200 } }\n'),
    'station_servers_huge': n('servers = 1', 'servers = 1e300'),
    'replicas_count_string': scenario(phase=PHASE + 'replicas = { count = "two" }\n'),
    'shards_count_1000': scenario(
        workload=sub(WORKLOAD, '[[workload.request]]', 'keys = { count = 1000 }\n\n[[workload.request]]'),
        phase=PHASE + 'shards = { count = 1000 }\n'),
    # --- Long values are echoed by their start.
    'long_distribution_name': w('dist = "exponential", mean_ms = 2', 'dist = "' + 'x' * 10000 + '", mean_ms = 2'),
    'long_string_weight': w('weight = 1.0', 'weight = "' + 'heavy ' * 2000 + '"'),
    'long_unknown_key': p('cores_per_host = 2', 'c' * 5000 + ' = 2'),
    'long_extends_name': scenario(phase=PHASE + '\n[[phase]]\nname = "Next"\nextends = "' + 'B' * 5000 + '"\n'),
    'long_engine_name': p(PG, 'database = { engine = "' + 'o' * 5000 + '" }'),
    'long_name_type_error': scenario().replace('name = "Hostile"', 'name = ["' + 'n' * 5000 + '"]'),
    # --- One invalid section does not hide another's errors.
    'max_connections_zero_and_pooler_errors': scenario(phase=sub(PHASE, PG, 'database = { engine = "postgres", cores = 2, max_connections = 0 }')
                                                       + 'pooler = { pool_mode = "statement", default_pool_size = 0 }\n'),
    'database_cores_missing_and_pooler_errors': scenario(phase=sub(PHASE, PG, 'database = { engine = "postgres" }') + 'pooler = { max_client_conn = -5 }\n'),
    'sqlite_journal_and_timeout_bad': p(PG, 'database = { engine = "sqlite", journal_mode = "wall", busy_timeout_ms = inf }'),
    'sqlite_two_hosts_and_bad_fsync': p('hosts = 1', 'hosts = 2').replace(PG, 'database = { engine = "sqlite", fsync_ms = -3 }'),
    'workload_bad_and_network_bad': scenario(
        workload=sub(WORKLOAD, 'weight = 1.0', 'weight = -1'),
        phase=sub(NETWORK, '{ use = "server"', '{ use = "servr"')),
    'keys_bad_and_request_bad': w('weight = 1.0', 'weight = 0').replace('[[workload.request]]', 'keys = { count = 0 }\n\n[[workload.request]]', 1),
    # --- SQLite has no replicas.
    'sqlite_with_replicas': scenario(phase=sub(PHASE, PG, SQLITE) + 'replicas = { count = 2 }\n'),
    'sqlite_with_replicas_inherited': scenario(phase=sub(PHASE, PG, SQLITE) + '\n[[phase]]\nname = "Replicated"\nextends = "Base"\nreplicas = { count = 1 }\n'),
    # --- TOML itself.
    'empty_file': '',
    'whitespace_only': '\n\n   \n\t\n',
    'duplicate_key': scenario().replace('name = "Hostile"', 'name = "Hostile"\nname = "Again"'),
    'table_defined_twice': scenario(extra='\n[sweep]\nreplications = 3\n'),
    'unterminated_inline_table': p('workers_per_host = 4 }', 'workers_per_host = 4'),
    'nested_arrays_deep': scenario().replace('name = "Hostile"', 'name = ' + '[' * 5000 + ']' * 5000),
    'nested_inline_tables_deep': scenario().replace('name = "Hostile"', 'name = ' + '{ a = ' * 2000 + '1' + ' }' * 2000),
    'crlf_line_endings': p('hosts = 1', 'hosts = 0').replace('\n', '\r\n'),
    'tabs_before_error': p('app = { hosts = 1', '\t\tapp = {\thosts = 0'),
    'quoted_keys_in_plan': n('browse = [', '"brow se" = ['),
    'step_with_two_actions': n('{ acquire = "lines" }', '{ acquire = "lines", release = "lines" }'),
    'missing_weight': '[workload]\nthink_time = { dist = "exponential", mean_s = 5 }\n[[workload.request]]\nname = "browse"\n[[phase]]\nname = "a"\n',
    'missing_dist_name': '[workload]\nthink_time = { mean_s = 5 }\n[[workload.request]]\nname = "b"\nweight = 1\n[[phase]]\nname = "a"\n',
    'extends_itself': scenario(phase=PHASE + '\n[[phase]]\nname = "Loop"\nextends = "Loop"\n'),
}

# Bytes that are not UTF-8 text.
binary = {
    'invalid_utf8_in_name': scenario().replace('name = "Hostile"', 'name = "Caf\udcff"').encode('utf-8', 'surrogateescape'),
    'latin1_comment_line_3': ('# ok\n# ok\n# caf\xe9 au lait\n' + scenario()).encode('latin-1'),
    'utf16_le_with_bom': b'\xff\xfe' + scenario().encode('utf-16-le'),
    'utf16_be_with_bom': b'\xfe\xff' + scenario().encode('utf-16-be'),
    'utf16_le_without_bom': scenario().encode('utf-16-le'),
    'truncated_multibyte_at_end': (scenario() + '# \u00e9').encode('utf-8')[:-1],
    'utf8_bom_then_error': b'\xef\xbb\xbf' + p('hosts = 1', 'hosts = 0').encode(),
    'nul_byte_in_string': scenario().replace('name = "Hostile"', 'name = "Hos\x00tile"').encode(),
}

for name, text in cases.items():
    with open(os.path.join(HERE, name + '.toml'), 'w', newline='') as f:
        f.write(text)
for name, data in binary.items():
    with open(os.path.join(HERE, name + '.bin'), 'wb') as f:
        f.write(data)
print(len(cases) + len(binary), 'files')
