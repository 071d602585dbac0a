"""The benchmark's workloads decide what their policies say (no timing is asserted)."""

from __future__ import annotations

from benchmarks.bench_policy import main, measure, mixed_workload, simple_workload
from irsa_lib.policy import evaluate


def test_simple_workload_allows_exactly_the_own_subtree() -> None:
    for request, policies in simple_workload(300):
        svc = request.principal.arn.rsplit("/", 1)[1].removesuffix("-service-role")
        own = request.resource.split(":parameter/", 1)[1].startswith(f"{svc}/")
        assert evaluate(request, policies).outcome == ("allow" if own else "deny")


def test_mixed_workload_is_the_allowed_chain() -> None:
    _, outcomes = measure(mixed_workload(300), repeat=1)
    assert outcomes == {"allow": 300}


def test_main_prints_both_figures(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--requests", "50"]) == 0
    out = capsys.readouterr().out
    assert "simple" in out and "mixed" in out and "decisions/s" in out
