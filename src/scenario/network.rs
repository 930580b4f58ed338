//! Hand-built queueing networks: `[[phase.station]]`, `[[phase.resource]]`, `[phase.plan]`.

use super::*;
use value::{duration, Unit, TIMEOUT};

pub(super) fn check_network(
    d: &mut Diagnostics,
    i: usize,
    span: std::ops::Range<usize>,
    p: &RawPhase,
    w: Option<&Workload>,
) -> Option<NetworkSpec> {
    let f = |x: &str| format!("phase[{i}].{x}");
    let mut ok = true;
    let mut stations = Vec::new();
    let mut station_ids: HashMap<String, u32> = HashMap::new();
    for (k, s) in p.station.iter().enumerate() {
        let r = s.get_ref();
        let name = r.name.get_ref().trim().to_string();
        let discipline = match r.discipline.get_ref().as_str() {
            "fcfs" => Discipline::Fcfs,
            "ps" => Discipline::ProcessorSharing,
            "delay" => Discipline::Delay,
            other => {
                let other = echo(other);
                d.error(
                    r.discipline.span(),
                    f(&format!("station[{k}].discipline")),
                    format!("`{other}` is not a discipline; valid: \"fcfs\" (c servers, one queue), \"ps\" (processor sharing over c cores), \"delay\" (infinite servers)"),
                );
                ok = false;
                Discipline::Delay
            }
        };
        let servers = match (&r.servers, discipline) {
            (None, Discipline::Delay) => 0,
            (None, _) => {
                d.error(
                    s.span(),
                    f(&format!("station[{k}].servers")),
                    "missing: the number of servers (1 or more)",
                );
                ok = false;
                0
            }
            (Some(v), _) => int_in(
                d,
                v,
                &f(&format!("station[{k}].servers")),
                1,
                1_000_000,
                "the number of servers",
            )
            .unwrap_or_else(|| {
                ok = false;
                0
            }) as u32,
        };
        // Contention is a property of cores shared in time (a `ps` station):
        // a queue or a delay has no runnable jobs beyond its servers to lose to.
        let contention = match (&r.contention, discipline) {
            (None, _) => 0.0,
            (Some(v), Discipline::ProcessorSharing) => num_in(
                d,
                v,
                &f(&format!("station[{k}].contention")),
                (0.0, 10.0),
                "the throughput lost per job beyond the servers",
            )
            .unwrap_or_else(|| {
                ok = false;
                0.0
            }),
            (Some(v), _) => {
                d.error(
                    v.span(),
                    f(&format!("station[{k}].contention")),
                    "contention applies to a \"ps\" station only (cores shared by more jobs than servers); remove it or set discipline = \"ps\"",
                );
                ok = false;
                0.0
            }
        };
        if station_ids.insert(name.clone(), k as u32).is_some() {
            d.error(
                r.name.span(),
                f(&format!("station[{k}].name")),
                format!("`{}` names two stations", echo(&name)),
            );
            ok = false;
        }
        stations.push(model::Station {
            name,
            discipline,
            servers,
            contention,
        });
    }
    let mut resources = Vec::new();
    let mut resource_ids: HashMap<String, u32> = HashMap::new();
    for (k, s) in p.resource.iter().enumerate() {
        let r = s.get_ref();
        let name = r.name.get_ref().trim().to_string();
        let capacity = int_in(
            d,
            &r.capacity,
            &f(&format!("resource[{k}].capacity")),
            1,
            10_000_000,
            "the units of the resource",
        );
        let max_waiting = match &r.max_waiting {
            None => Some(None),
            Some(v) => int_in(
                d,
                v,
                &f(&format!("resource[{k}].max_waiting")),
                0,
                100_000_000,
                "the requests allowed to wait",
            )
            .map(|x| Some(x as u32)),
        };
        let timeout_ns = match &r.timeout_ms {
            None => Some(None),
            Some(v) => duration(
                d,
                v,
                &f(&format!("resource[{k}].timeout_ms")),
                Unit::Ms,
                TIMEOUT,
            )
            .map(|t| Some(t.whole_ns())),
        };
        if resource_ids.insert(name.clone(), k as u32).is_some() {
            d.error(
                r.name.span(),
                f(&format!("resource[{k}].name")),
                format!("`{}` names two resources", echo(&name)),
            );
            ok = false;
        }
        match (capacity, max_waiting, timeout_ns) {
            (Some(c), Some(m), Some(t)) => resources.push(model::Resource {
                name,
                capacity: c as u32,
                policy: WaitPolicy {
                    max_waiting: m,
                    timeout_ns: t,
                },
            }),
            _ => ok = false,
        }
    }
    if p.resource.len() > model::MAX_RESOURCES {
        d.error(
            p.resource[model::MAX_RESOURCES].span(),
            f("resource"),
            format!(
                "{} resources; at most {} are allowed in a phase",
                p.resource.len(),
                model::MAX_RESOURCES
            ),
        );
        return None;
    }
    let empty = BTreeMap::new();
    let plan_map = p.plan.as_ref().map(|m| m.get_ref()).unwrap_or(&empty);
    let plan_span = p.plan.as_ref().map(|m| m.span()).unwrap_or(span.clone());
    let Some(w) = w else {
        // The workload is invalid (and reported): check every plan's steps
        // against this phase's stations and resources all the same.
        for (name, steps) in plan_map {
            for (k, st) in steps.iter().enumerate() {
                let field = f(&format!("plan.{}[{k}]", echo(name)));
                check_step(d, st, &field, &station_ids, &resource_ids);
            }
        }
        return None;
    };
    let names: HashMap<&str, ()> = w.requests.iter().map(|r| (r.name.as_str(), ())).collect();
    for name in plan_map.keys() {
        if !names.contains_key(name.as_str()) {
            let known: Vec<&str> = w.requests.iter().map(|r| r.name.as_str()).collect();
            d.error(
                plan_span.clone(),
                f(&format!("plan.{}", echo(name))),
                format!(
                    "no request of the workload is named `{}` (known: {})",
                    echo(name),
                    quoted(&known)
                ),
            );
            ok = false;
        }
    }
    let mut plans = Vec::new();
    for r in &w.requests {
        let Some(steps) = plan_map.get(&r.name) else {
            d.error(
                plan_span.clone(),
                f("plan"),
                format!(
                    "request `{}` has no plan in this phase; add plan.{} = [ ... ]",
                    echo(&r.name),
                    echo(&r.name)
                ),
            );
            ok = false;
            continue;
        };
        let mut plan = Vec::new();
        for (k, st) in steps.iter().enumerate() {
            let field = f(&format!("plan.{}[{k}]", echo(&r.name)));
            match check_step(d, st, &field, &station_ids, &resource_ids) {
                Some(s) => plan.push(s),
                None => ok = false,
            }
        }
        plans.push(plan);
    }
    if !ok {
        return None;
    }
    let spec = NetworkSpec {
        stations,
        resources,
        plans,
    };
    // Path-sensitive checks (a branch that leads to acquiring a resource the
    // request already holds would deadlock it) need the assembled model.
    let probe = crate::model::Model::network(
        spec.stations.clone(),
        spec.resources.clone(),
        &spec.plans,
        w.requests.iter().map(|r| (r.name.clone(), r.weight)),
        w.population,
        w.keys,
    );
    if let Err(e) = probe.validate() {
        d.error(plan_span, f("plan"), diag::shorten_quoted(&e.to_string()));
        return None;
    }
    Some(spec)
}

pub(super) fn check_step(
    d: &mut Diagnostics,
    st: &S<RawStep>,
    field: &str,
    stations: &HashMap<String, u32>,
    resources: &HashMap<String, u32>,
) -> Option<Step> {
    let s = st.get_ref();
    let count = [
        s.acquire.is_some(),
        s.release.is_some(),
        s.use_.is_some(),
        s.delay.is_some(),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    if count != 1 || (s.demand.is_some() && s.use_.is_none()) {
        d.error(
            st.span(),
            field,
            "a step is exactly one of { acquire = \"resource\" }, { release = \"resource\" }, { use = \"station\", demand = {...} }, { delay = {...} }",
        );
        return None;
    }
    let lookup = |d: &mut Diagnostics,
                  name: &S<String>,
                  map: &HashMap<String, u32>,
                  what: &str|
     -> Option<u32> {
        match map.get(name.get_ref().trim()) {
            Some(&id) => Some(id),
            None => {
                let mut known: Vec<&str> = map.keys().map(String::as_str).collect();
                known.sort();
                d.error(
                    name.span(),
                    field,
                    format!(
                        "no {what} is named `{}` in this phase (known: {})",
                        echo(name.get_ref()),
                        quoted(&known)
                    ),
                );
                None
            }
        }
    };
    if let Some(r) = &s.acquire {
        return lookup(d, r, resources, "resource").map(Step::Acquire);
    }
    if let Some(r) = &s.release {
        return lookup(d, r, resources, "resource").map(Step::Release);
    }
    if let Some(dl) = &s.delay {
        return check_dist(d, dl, &format!("{field}.delay")).map(Step::Delay);
    }
    let station = lookup(d, s.use_.as_ref().unwrap(), stations, "station")?;
    let Some(demand) = &s.demand else {
        d.error(
            st.span(),
            field,
            "a `use` step needs its demand, e.g. demand = { dist = \"exponential\", mean_ms = 10 }",
        );
        return None;
    };
    let demand = check_dist(d, demand, &format!("{field}.demand"))?;
    Some(Step::Use { station, demand })
}
