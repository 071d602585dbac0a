"""Side by side with PMapper (``principalmapper``) on the root-trust shape, over one local AWS endpoint.

PMapper reads an account from AWS and computes every IAM edge (``pmapper graph create``); it can
be pointed at a local endpoint with ``--localstack-endpoint``, which serves moto as well. For each
size this starts the local endpoint (``benchmarks.endpoint``, moto in server mode, its account set
to the shape's with ``MOTO_ACCOUNT_ID``), writes the shape's IAM, KMS and SSM records into it with
boto3 (attached managed policies as inline ones: see :func:`seed`), and times PMapper's
``graph create`` and one ``query`` in fresh processes (wall and CPU time,
peak memory); irsa_lib's ``irsa access`` and ``irsa findings`` on the same records are timed by
``benchmarks.shape_bench``.

PMapper is not a dependency of this project: give the Python that has it installed with
``--pmapper-python`` (default ``$PMAPPER_PYTHON``). Release 1.1.5 on PyPI imports ``Mapping`` from
``collections``, which Python 3.10 removed; it is started through a two-line shim that aliases the
``collections.abc`` names before importing it (its code is unchanged).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.shape_bench import measure
from benchmarks.shapes import ACCOUNT, REGION, generate_shape
from irsa_lib.snapshot import Snapshot

SHAPE = "root-trust"
SIZES = (200, 400, 800)
SHIM = (
    "import collections, collections.abc, sys\n"
    "for n in ('Mapping', 'MutableMapping', 'Sequence', 'Iterable', 'Callable'):\n"
    "    setattr(collections, n, getattr(collections.abc, n))\n"
    "from principalmapper.__main__ import main\n"
    "sys.exit(main())\n"
)
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}


def seed(endpoint: str, snap: Snapshot) -> int:
    """Write the shape's roles (trust and every identity policy), OIDC provider, keys and SecureString
    parameters into the endpoint; returns the number of API calls made.

    Attached managed policies are written as inline policies of each role (the same documents): moto's
    GetAccountAuthorizationDetails leaves ``PolicyName`` out of managed policies, on which PMapper's
    gathering stops."""
    import boto3

    session = boto3.session.Session(region_name=REGION, **{k.lower(): v for k, v in CREDENTIALS.items() if "KEY" in k})
    iam, kms, ssm = (session.client(s, endpoint_url=endpoint) for s in ("iam", "kms", "ssm"))
    calls = 0
    for p in snap.oidc_providers:
        iam.create_open_id_connect_provider(Url=f"https://{p.url}", ClientIDList=list(p.client_ids),
                                            ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])  # fmt: skip
        calls += 1
    managed = {mp.arn: mp for mp in snap.managed_policies}
    for role in snap.roles:
        iam.create_role(RoleName=role.name, Path=role.path, AssumeRolePolicyDocument=json.dumps(role.trust_policy))
        documents = [(ip.name, ip.document) for ip in role.inline_policies]
        documents += [(managed[arn].name, managed[arn].document) for arn in role.attached_policy_arns]
        for name, document in documents:
            iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(document))
        calls += 1 + len(documents)
    key_ids = {}
    for key in snap.kms_keys:
        meta = kms.create_key(Policy=json.dumps(key.policy or {}))["KeyMetadata"]
        key_ids[key.key_id] = meta["KeyId"]
        calls += 1
    for param in snap.ssm_parameters:
        ssm.put_parameter(Name=param.name, Value="placeholder", Type="SecureString",
                          KeyId=key_ids.get(param.key_id or "", "alias/aws/ssm"))  # fmt: skip
        calls += 1
    return calls


def _pmapper_readers(output: str) -> list[str]:
    """The principals a PMapper ``who can do`` answer names (its unindented lines)."""
    return sorted(
        {line.split()[0] for line in output.splitlines() if line and not line.startswith(" ") and " call" in line}
    )


def _our_readers(snap: Snapshot, target: str) -> list[str]:
    """The roles irsa_lib's graph lets read ``target`` (read and decrypt), directly or by assuming roles."""
    import networkx as nx

    from irsa_lib.graph import build_graph
    from irsa_lib.graph.schema import NodeType, param_id

    graph = build_graph(snap)
    ancestors = nx.ancestors(graph.graph, param_id(target))
    names = (str(graph.node(n).get("arn", "")).split(":", 5)[-1] for n in ancestors)
    return sorted(n for n, node in zip(names, ancestors, strict=True) if graph.type_of(node) == NodeType.IAM_ROLE)


def pmapper_command(python: str, *args: str) -> list[str]:
    return [python, "-c", SHIM, *args]


def run_size(python: str, roles: int, *, timeout: float) -> dict[str, Any]:
    snap = generate_shape(f"{SHAPE}-{roles}")
    env = {**os.environ, **CREDENTIALS, "MOTO_ACCOUNT_ID": ACCOUNT}
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.endpoint"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, env=env)  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            return {"status": "error", "reason": f"the local endpoint did not start (got {url!r})"}
        os.environ.update(CREDENTIALS)
        calls = seed(url, snap)
        with tempfile.TemporaryDirectory() as home:
            # PMapper keeps its graphs under the user's data directory: give it a throwaway one
            os.environ.update({"HOME": home, "XDG_DATA_HOME": home})
            create = measure(
                pmapper_command(python, "graph", "create", "--localstack-endpoint", url, "--include-regions", REGION,
                                "--ignore-orgs"),
                timeout=timeout,
            )  # fmt: skip
            target = next(p.arn for p in snap.ssm_parameters if p.name.startswith("/svc/svc-00003/"))
            query = measure(
                pmapper_command(python, "--account", ACCOUNT, "query", f"who can do ssm:GetParameter with {target}"),
                timeout=timeout,
                keep_output=True,
            )
        readers = {"pmapper": _pmapper_readers(query.pop("output", "")), "irsa_lib": _our_readers(snap, target)}
        return {"status": "ok", "roles": roles, "seed_calls": calls, "graph_create": create, "query": query,
                "target": target, "readers": readers}  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)


def pmapper_lines(results: dict[str, Any], shapes: dict[str, Any] | None) -> list[str]:
    """The side-by-side table (irsa_lib's figures from the shape benchmark of the same sizes)."""
    out = ["### Side by side with PMapper (root-trust shape)", ""]
    if results.get("status") != "ok":
        return [*out, f"Not measured: {results.get('reason')}.", ""]
    out += [
        f"PMapper {results.get('version', '?')} (`graph create` over the local endpoint, then one `query`), "
        "against irsa_lib's `irsa access` + `irsa findings` on the same records. Wall time / CPU time.",
        "",
        "| roles | PMapper `graph create` | PMapper query | irsa access + findings | × faster (wall) | × faster (CPU) |",
        "|--:|--:|--:|--:|--:|--:|",
    ]
    ours = (shapes or {}).get(SHAPE, {})
    for roles, r in results["sizes"].items():
        c, q = r.get("graph_create", {}), r.get("query", {})
        mine = ours.get(roles, {})
        a, f = mine.get("access", {}), mine.get("findings", {})
        both = [x for x in (a, f) if x.get("status") == "ok"]
        pair_w = sum(x["wall"] for x in both) if len(both) == 2 else None
        pair_c = sum(x["cpu"] for x in both) if len(both) == 2 else None

        def cell(x: dict[str, Any]) -> str:
            return f"{x['wall']:.1f} s / {x['cpu']:.1f} s" if x.get("status") == "ok" else str(x.get("status", "-"))

        ratio_w = f"×{c['wall'] / pair_w:.0f}" if pair_w and c.get("status") == "ok" else "-"
        ratio_c = f"×{c['cpu'] / pair_c:.0f}" if pair_c and c.get("status") == "ok" else "-"
        both_s = f"{pair_w:.1f} s / {pair_c:.1f} s" if pair_w is not None and pair_c is not None else "-"
        out.append(f"| {int(roles):,} | {cell(c)} | {cell(q)} | {both_s} | {ratio_w} | {ratio_c} |")
    agree = [
        f"{int(roles):,} roles: {len(r['readers']['pmapper'])} / {len(r['readers']['irsa_lib'])}"
        + ("" if r["readers"]["pmapper"] == r["readers"]["irsa_lib"] else " (**differ**)")
        for roles, r in results["sizes"].items()
        if r.get("readers")
    ]
    if agree:
        target = next(iter(results["sizes"].values())).get("target", "")
        out += ["", f"Roles that can read `{target.split(':', 5)[-1]}` (PMapper / irsa_lib): {'; '.join(agree)}."]
    return [*out, ""]


def run(python: str | None, sizes: Sequence[int], *, timeout: float) -> dict[str, Any]:
    if not python or not Path(python).exists():
        return {"status": "not available", "reason": "no Python with principalmapper given (--pmapper-python)"}
    probe = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('principalmapper'))"],
                           capture_output=True, text=True, check=False)  # fmt: skip
    if probe.returncode != 0:
        return {"status": "not available", "reason": f"principalmapper is not installed for {python}"}
    out: dict[str, Any] = {"status": "ok", "version": probe.stdout.strip(), "sizes": {}}
    saved = dict(os.environ)
    try:
        for roles in sizes:
            out["sizes"][str(roles)] = run_size(python, roles, timeout=timeout)
            print(f"pmapper {roles}: {out['sizes'][str(roles)]}", file=sys.stderr, flush=True)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pmapper_bench", description=__doc__)
    parser.add_argument("--pmapper-python", default=os.environ.get("PMAPPER_PYTHON"))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--out", type=Path, help="write the raw results as JSON here")
    args = parser.parse_args(argv)
    results = run(args.pmapper_python, [int(s) for s in args.sizes.split(",")], timeout=args.timeout)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    print("\n".join(pmapper_lines(results, None)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
