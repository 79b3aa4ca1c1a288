"""Cost of the quality gate on one load batch: fetch + validate in pandas, or GX validating in SQL.

Starts its own twin (a `snowseg_twin.server` process on a free port, state in a temp folder). For
each size, a fresh database gets the versioned setup as the admin, a generated CSV (seed 42) is
loaded into it with the bulk path core as the service role, then the batch is judged, ``--repeats``
times, by two strategies with the same rules (``contract_rules``), as the service role too:

- fetch: ``run_gate`` with ``quality.strategy: fetch``. The batch's rows are fetched once
  (``fetch_batches``: one query, with the money identities' residuals computed in the warehouse) and
  validated with GX on a pandas batch (``validate_batch``). Phases: setup (ephemeral GX context +
  pandas datasource), fetch, validate.
- sql: ``run_gate``'s default. GX's SQL datasource validates in the warehouse through the same
  Airflow connection (``add_warehouse_source``: URL from ``SnowflakeHook.get_uri()`` without the
  password, DB-API connections from ``SnowflakeHook.get_conn()``), on a query asset of the batch with
  the identity residuals; the rules run with result_format COMPLETE and ``unexpected_index_column_names``
  ``_FILE``, ``_ROW`` (``validate_batch_sql``). Phases: setup (context, datasource), validate. A rule
  GX cannot run on the twin fails the run with its exact error.

Neither strategy writes anything (no DQ_RESULTS, quarantine or verdict rows): this measures judging,
not recording. A size whose first repetition takes longer than ``--budget-s`` (either strategy) is
not repeated: the table says how many runs each median is of. Prints the table (median seconds,
rows/s, ratio to the fetch strategy) and saves bench/results/bench_gate.json.

    python bench/bench_gate.py [--sizes 100000 1000000] [--repeats 3] [--budget-s 90]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from benchstack import REPO, bench_twin, set_up_database

CONN_ID = "snowflake_default"  # the service role's Airflow connection, which bench_twin points at this bench's twin
STRATEGIES = ("fetch", "sql")
PHASES = ("setup", "fetch", "validate")


class CountingCursor:
    """A DB-API cursor that keeps the statements it executes."""

    def __init__(self, cursor):
        self.cursor, self.statements = cursor, []

    def execute(self, statement, *args, **kwargs):
        self.statements.append(statement)
        return self.cursor.execute(statement, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.cursor, name)


class SQLAlchemyStatements:
    """Keeps the statements every SQLAlchemy engine sends while the block runs."""

    def __enter__(self):
        import sqlalchemy as sa

        self.statements = []
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self._count)
        return self

    def _count(self, conn, cursor, statement, *args) -> None:
        self.statements.append(statement)

    def __exit__(self, *exc) -> None:
        import sqlalchemy as sa

        sa.event.remove(sa.engine.Engine, "before_cursor_execute", self._count)


def _outcome(rule, success, result: dict, error) -> dict:
    """One rule's outcome, JSON-safe (batch-level rules keep their observed value)."""
    return {"rule": rule.name, "success": bool(success), "unexpected_count": result.get("unexpected_count"),
            "unexpected_rows": len(result.get("unexpected_index_list") or []),
            "observed_value": None if rule.row_level else result.get("observed_value"), "error": error}


def check_engine(engine) -> dict:
    """Prove the GX datasource's engine reaches the twin: ``select 1`` and the DB-API connection's endpoint."""
    import sqlalchemy as sa

    with engine.connect() as c:
        one = c.execute(sa.text("select 1")).scalar()
        dbapi = c.connection.driver_connection
        return {"select_1": one, "protocol": dbapi._protocol, "host": dbapi.host, "port": dbapi.port}


def fetch_strategy(conn, contract, names, batch: dict, rules) -> tuple[dict, list, list]:
    """run_gate's way: fetch the batch's rows once, validate them with GX on pandas.

    Returns seconds per phase, each rule's outcome, and the statements sent to the warehouse.
    """
    import great_expectations as gx

    from snowseg.quality.gate import fetch_batches, validate_batch

    phases, t = {}, time.perf_counter()
    context = gx.get_context(mode="ephemeral")
    context.data_sources.add_pandas("batches")
    phases["setup"] = time.perf_counter() - t
    t = time.perf_counter()
    with conn.cursor() as raw:
        cur = CountingCursor(raw)
        df = fetch_batches(cur, names, contract, [batch["BATCH_ID"]])
    phases["fetch"] = time.perf_counter() - t
    t = time.perf_counter()
    results = validate_batch(context, df, rules, batch["BATCH_ID"])
    phases["validate"] = time.perf_counter() - t
    assert len(df) == batch["ROWS_LOADED"], (len(df), batch)
    out = [_outcome(r.rule, r.success, {"unexpected_count": r.unexpected_count, "observed_value": r.observed_value,
                                        "unexpected_index_list": r.unexpected_rows}, None) for r in results]
    return phases, out, cur.statements


def sql_strategy(contract, names, batch: dict, rules) -> tuple[dict, list, list]:
    """run_gate's way (``quality.strategy: sql``): GX's SQL datasource on the Airflow connection runs the
    rules in the warehouse (``add_warehouse_source`` + ``validate_batch_sql``).

    Returns seconds per phase, each rule's outcome, and the statements sent to the warehouse
    (SQLAlchemy's count, connection set-up included).
    """
    import great_expectations as gx

    from snowseg.quality.gate import add_warehouse_source, validate_batch_sql

    phases = {"fetch": 0.0}  # nothing leaves the warehouse but metrics and the failing rows' keys
    with SQLAlchemyStatements() as statements:
        t = time.perf_counter()
        context = gx.get_context(mode="ephemeral")
        add_warehouse_source(context, CONN_ID)
        phases["setup"] = time.perf_counter() - t
        t = time.perf_counter()
        results = validate_batch_sql(context, names, contract, rules, batch["BATCH_ID"])
        phases["validate"] = time.perf_counter() - t
    out = [_outcome(r.rule, r.success, {"unexpected_count": r.unexpected_count, "observed_value": r.observed_value,
                                        "unexpected_index_list": r.unexpected_rows}, None) for r in results]
    return phases, out, statements.statements


def compare(fetch: list, sql: list) -> dict:
    """Which rules ran / errored in SQL, and whether the ones that ran agree with the pandas verdicts."""
    by_rule = {r["rule"]: r for r in fetch}
    ran = [r for r in sql if r["error"] is None]
    disagree = [{"rule": r["rule"], "sql": [r["success"], r["unexpected_count"]],
                 "fetch": [by_rule[r["rule"]]["success"], by_rule[r["rule"]]["unexpected_count"]]}
                for r in ran if r["rule"] in by_rule and (r["success"], r["unexpected_count"])
                != (by_rule[r["rule"]]["success"], by_rule[r["rule"]]["unexpected_count"])]
    return {"rules": len(sql), "ran": [r["rule"] for r in ran],
            "errored": {r["rule"]: r["error"] for r in sql if r["error"] is not None}, "disagree": disagree}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget-s", type=float, default=90.0,
                        help="do not repeat a size whose first run of a strategy took longer (seconds)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "bench_gate.json")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="snowseg-bench-gate-"))
    # this process's own twin and Airflow home, not whatever the shell (e.g. the Makefile) points at
    twin = bench_twin(tmp)
    os.environ["SNOWSEG_SNOWFLAKE_CONN_ID"] = CONN_ID

    import great_expectations  # noqa: F401  (GX's ~6 s import is not part of either strategy)
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook  # noqa: F401  (Airflow's import cost)

    from snowseg.config import load_contract
    from snowseg.loading.bulk import load_path_files
    from snowseg.quality.gate import new_batches
    from snowseg.quality.suite import contract_rules
    from snowseg.warehouse import Names, connect
    from snowseg_samples import write_sales_csv

    contract = load_contract()
    runs, sql_rules, engine_check, setups = [], {}, None, {}
    try:
        twin.start()
        import great_expectations as gx

        from snowseg.quality.gate import add_warehouse_source

        engine = add_warehouse_source(gx.get_context(mode="ephemeral"), CONN_ID).get_engine()
        engine_check = check_engine(engine)
        engine.dispose()
        print(f"hook engine: {engine_check}", flush=True)
        for n in args.sizes:
            csv = write_sales_csv(tmp / f"sales_{n}.csv", n, seed=42)
            names = Names.from_env(f"G{uuid.uuid4().hex[:8].upper()}")
            os.environ["SNOWSEG_DATABASE"] = names.database
            setups[n] = setup_s = set_up_database(names.database, [contract])  # as the admin, untimed
            conn = connect(CONN_ID)  # the service role, as the DAG tasks connect
            t = time.perf_counter()
            (res,) = load_path_files(conn, str(csv), contract, names, chunk_bytes=25_000_000)
            load_s = time.perf_counter() - t
            assert res.rows_loaded == n, res
            with conn.cursor() as cur:
                (batch,) = new_batches(cur, names, contract)
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
            rules = contract_rules(contract, expected_rows=batch["ROWS_LOADED"], today=now.date().isoformat(),
                                   now=now.isoformat(sep=" "))
            print(f"{n} rows loaded in {load_s:.1f} s into {names.database} (set up in {setup_s:.1f} s; batch "
                  f"{batch['BATCH_ID']}, {len(rules)} rules)", flush=True)
            for rep in range(args.repeats):
                outcomes, statements = {}, {}
                # alternate the order so neither strategy always runs on a warmer warehouse
                for strategy in (STRATEGIES if rep % 2 == 0 else STRATEGIES[::-1]):
                    if strategy == "fetch":
                        phases, outcomes[strategy], sent = fetch_strategy(conn, contract, names, batch, rules)
                    else:
                        phases, outcomes[strategy], sent = sql_strategy(contract, names, batch, rules)
                    statements[strategy] = [" ".join(q.split())[:400] for q in sent]
                    errored = sum(r["error"] is not None for r in outcomes[strategy])
                    runs.append({"rows": n, "repeat": rep, "strategy": strategy,
                                 **{f"{p}_s": round(phases[p], 3) for p in PHASES},
                                 "total_s": round(sum(phases.values()), 3), "queries": len(sent),
                                 "rules_run": len(outcomes[strategy]) - errored, "rules_errored": errored})
                    print(json.dumps(runs[-1]), flush=True)
                sql_rules.setdefault(n, compare(outcomes["fetch"], outcomes["sql"]))
                if rep == 0:
                    sql_rules[n].update(outcomes=outcomes, statements=statements)
                if max(r["total_s"] for r in runs if r["rows"] == n) > args.budget_s and rep + 1 < args.repeats:
                    print(f"{n} rows: a run took over {args.budget_s:.0f} s, so {rep + 1} run(s) only", flush=True)
                    break
            conn.close()
            csv.unlink()
    finally:
        twin.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    table = []
    for n in args.sizes:
        base = statistics.median(r["total_s"] for r in runs if r["rows"] == n and r["strategy"] == "fetch")
        for strategy in STRATEGIES:
            rs = [r for r in runs if r["rows"] == n and r["strategy"] == strategy]
            med = {p: statistics.median(r[f"{p}_s"] for r in rs) for p in (*PHASES, "total")}
            table.append({"rows": n, "strategy": strategy, "runs": len(rs),
                          **{f"{p}_s": round(v, 3) for p, v in med.items()},
                          "rows_per_s": round(n / med["total"]), "ratio_to_fetch": round(med["total"] / base, 3),
                          "queries": rs[0]["queries"], "rules_run": rs[0]["rules_run"],
                          "rules_errored": rs[0]["rules_errored"]})
    cols = [("rows", 8, ">", ""), ("strategy", 8, "<", ""), ("runs", 4, ">", ""), ("setup_s", 8, ">", ".3f"),
            ("fetch_s", 8, ">", ".3f"), ("validate_s", 10, ">", ".3f"), ("total_s", 8, ">", ".3f"),
            ("rows/s", 9, ">", ""), ("x fetch", 7, ">", ".2f"), ("queries", 7, ">", ""),
            ("rules run / errored", 19, "<", "")]
    print(f"\nquality gate on one batch, median seconds, {os.cpu_count()} cores, twin over HTTP "
          "(x fetch = total / the fetch strategy's total; queries = SQL statements sent per run)\n")
    print("| " + " | ".join(f"{c:{a}{w}}" for c, w, a, _ in cols) + " |")
    print("|" + "|".join(":" + "-" * (w + 1) if a == "<" else "-" * (w + 1) + ":" for _, w, a, _ in cols) + "|")
    for r in table:
        values = [r["rows"], r["strategy"], r["runs"], r["setup_s"], r["fetch_s"], r["validate_s"], r["total_s"],
                  r["rows_per_s"], r["ratio_to_fetch"], r["queries"], f"{r['rules_run']} / {r['rules_errored']}"]
        print("| " + " | ".join(f"{v:{a}{w}{f}}" for (_, w, a, f), v in zip(cols, values)) + " |")
    for n, c in sql_rules.items():
        if c["errored"]:
            print(f"\nsql strategy at {n} rows: {len(c['errored'])} of {c['rules']} rules could not run on the twin:")
            for rule, error in c["errored"].items():
                print(f"  - {rule}: {error}")
        if c["disagree"]:
            print(f"sql strategy at {n} rows: rules that ran but disagree with pandas: {c['disagree']}")
        elif not c["errored"]:
            print(f"sql strategy at {n} rows: all {c['rules']} rules ran on the twin; verdicts and unexpected counts "
                  "equal the fetch strategy's")
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": {"cores": os.cpu_count(), "python": platform.python_version()},
                               "repeats": args.repeats, "budget_s": args.budget_s, "hook_engine": engine_check,
                               "warehouse_setup_s": {str(n): round(s, 3) for n, s in setups.items()},
                               "table": table, "sql_rules": {str(n): c for n, c in sql_rules.items()},
                               "runs": runs}, indent=2, default=str))
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
