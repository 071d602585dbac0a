/* irsa_lib access report: tables and focused graphs drawn from the report's data (report_data.js).
   DataTables (from the itables package) and vis-network (from pyvis) are inlined in the page; this
   file only wires them to the data. Every cell is rendered as text (DataTable.render.text()), and
   graph labels and hover texts are plain strings, so nothing from the data is read as HTML. */
(function () {
  "use strict";
  const ACCESS = ["direct", "via-controller", "potential"];
  const DECISION = ["allow", "conditional"];
  const SEP = " \u2192 ";
  const app = document.getElementById("irsa-app");
  const CONF = JSON.parse(document.getElementById("irsa-config").textContent);
  const state = { tables: {}, network: null, D: null, A: null };
  window.irsaReport = state;

  function el(id) { return document.getElementById(id); }
  function say(id, text) { const e = el(id); if (e) e.textContent = text; }

  async function loadDataTables() {
    const src = el("irsa-datatables-src").textContent;
    const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
    try { return (await import(url)).default; } finally { URL.revokeObjectURL(url); }
  }

  function loadData() {
    return new Promise(function (resolve, reject) {
      if (window.IRSA_REPORT_DATA) { resolve(); return; }
      const s = document.createElement("script");
      s.src = CONF.data_file;
      s.onload = function () { resolve(); };
      s.onerror = function () { reject(new Error(CONF.data_file + " could not be loaded: keep it beside this page")); };
      document.body.appendChild(s);
    });
  }

  function chain(D, r) {
    const first = D.rows.f[r];
    return first < 0 ? [] : [first].concat(D.suffixes[D.rows.p[r]]);
  }

  function accessData(D) {
    const R = D.rows, n = R.s.length, out = new Array(n);
    for (let r = 0; r < n; r++) {
      const s = D.subjects[R.s[r]], v = D.values[R.v[r]], k = R.k[r];
      out[r] = [s[0], s[1], v[0], v[3], ACCESS[k >> 2], DECISION[(k >> 1) & 1], (k & 1) ? "yes" : "no",
                chain(D, r).map(function (i) { return D.labels[i]; }).join(SEP),
                R.u[r] >= 0 ? D.notes[R.u[r]] : ""];
    }
    return out;
  }

  function table(DataTable, id, columns, data, extra) {
    const node = el(id);
    if (!node) return null;
    const cols = columns.map(function (t) {
      return { title: t, render: DataTable.render.text(), className: t === "path" ? "irsa-path" : "" };
    });
    const t = new DataTable(node, Object.assign({
      data: data, columns: cols, deferRender: true, pageLength: 10, lengthMenu: [10, 25, 100, 500],
      order: [], autoWidth: false, search: { smart: true },
    }, extra || {}));
    // one search box per column, under the header
    const row = document.createElement("tr");
    t.columns().every(function () {
      const column = this, th = document.createElement("th"), input = document.createElement("input");
      input.type = "search"; input.placeholder = "filter"; input.className = "irsa-colfilter";
      input.addEventListener("input", function () { column.search(input.value).draw(); });
      th.appendChild(input); row.appendChild(th);
    });
    t.table().header().appendChild(row);
    state.tables[id] = t;
    return t;
  }

  // ------------------------------------------------------------------ focused graphs
  function index(D, key) {
    const cache = index.cache || (index.cache = {});
    if (cache[key]) return cache[key];
    const R = D.rows, n = R.s.length, by = {};
    for (let r = 0; r < n; r++) {
      let k;
      if (key === "value") k = R.v[r];
      else if (key === "subject") k = R.s[r];
      else { const s = D.subjects[R.s[r]]; k = s[3] ? s[2] + "/" + s[3] : ""; }
      (by[k] || (by[k] = [])).push(r);
    }
    return (cache[key] = by);
  }

  function edgeStyle(e) {
    const dash = e[1] === "conditional" ? [10, 6] : e[1] === "potential" ? [2, 5] : false;
    return { arrows: "to", dashes: dash, color: { color: CONF.edge_colors[e[1]] || "#555" },
             title: e[0] + " (" + e[1] + ")\n" + e[2].join("\n") };
  }

  // Draw the paths of `rows`: each row's subject, then its hops, the value's key, the value. When
  // more than CONF.group_at subjects are drawn, subjects of one kind that take the same first hop
  // are drawn as one node saying how many they are (its hover text names them).
  function draw(D, title, rows, search) {
    const box = el("irsa-graph");
    if (!box || !window.vis) return;
    const shown = rows.slice(0, CONF.graph_rows);
    const nodes = new Map(), edges = new Map(), groups = new Map(), readers = new Set();
    const grouped = new Set(shown.map(function (r) { return D.rows.s[r]; })).size > CONF.group_at;
    function node(id, label, type, extra) {
      if (nodes.has(id)) return;
      const style = CONF.styles[type] || CONF.styles[""];
      nodes.set(id, Object.assign({ id: id, label: label, title: label + "\n(" + type + ")", shape: style[0],
                                    color: { background: style[1], border: "#444" }, font: { size: 14 } }, extra || {}));
    }
    function edge(a, b, e) {
      const key = a + " " + b;
      if (!edges.has(key)) edges.set(key, Object.assign({ from: a, to: b }, edgeStyle(e)));
    }
    shown.forEach(function (r) {
      const c = chain(D, r), si = D.rows.s[r], s = D.subjects[si];
      readers.add(s[0]);
      const own = c.length && D.labels[c[0]] === s[0];  // the path starts at the subject itself
      let rest = own ? c.slice(1) : c;
      let first = own ? (D.edges[c[0] + " " + c[1]] || ["", "allow", []])
                      : ["runs as", "allow", ["the workload's pods hold the service account's token"]];
      let start = "s" + si;
      if (grouped) {
        // what belongs to one subject alone is folded into its group (its workloads, the "any
        // ExternalSecret someone could create in <ns>" of its namespace): the group points at the
        // first hop the subjects share, and its hover text names what was folded
        const folded = [];
        while (rest.length > 1 && (D.types[rest[0]] === "workload" || D.labels[rest[0]].startsWith("any "))) {
          folded.push(D.labels[rest[0]]);
          first = D.edges[rest[0] + " " + rest[1]] || first;
          rest = rest.slice(1);
        }
        start = "g:" + s[1] + ":" + (rest.length ? rest[0] : "");
        const g = groups.get(start) || { kind: s[1], members: [], via: new Set() };
        g.members.push(s[0]);
        folded.forEach(function (f) { g.via.add(f); });
        groups.set(start, g);
      } else {
        node(start, s[0], CONF.kinds[s[1]] || "");
      }
      rest.forEach(function (i) { node(i, D.labels[i], D.types[i]); });
      if (rest.length) edge(start, rest[0], first);
      for (let j = 0; j + 1 < rest.length; j++) {
        edge(rest[j], rest[j + 1], D.edges[rest[j] + " " + rest[j + 1]] || ["", "allow", []]);
      }
    });
    groups.forEach(function (g, id) {
      const names = Array.from(new Set(g.members)).sort();
      const label = names.length === 1 ? names[0] : names.length + " " + (CONF.plural[g.kind] || g.kind);
      node(id, label, CONF.kinds[g.kind] || "", {
        title: label + ":\n" + names.slice(0, 30).join("\n") +
               (names.length > 30 ? "\n… and " + (names.length - 30) + " more (the table lists all)" : "") +
               (g.via.size ? "\nthrough their own: " + Array.from(g.via).slice(0, 10).join("; ") +
                             (g.via.size > 10 ? "; … " + g.via.size + " in all" : "") : ""),
        font: { size: 15, bold: true }, borderWidth: 3,
      });
    });
    const data = { nodes: new vis.DataSet(Array.from(nodes.values())), edges: new vis.DataSet(Array.from(edges.values())) };
    const options = {
      layout: { hierarchical: { enabled: true, direction: "LR", sortMethod: "directed", shakeTowards: "leaves",
                                levelSeparation: 280, nodeSpacing: 60 } },
      physics: { enabled: false }, interaction: { hover: true, tooltipDelay: 80 },
      edges: { smooth: { type: "cubicBezier", forceDirection: "horizontal" } },
    };
    if (state.network) state.network.destroy();
    state.network = new vis.Network(box, data, options);
    state.network.fit();
    state.focus = { title: title, rows: rows.length, shown: shown.length, readers: Array.from(readers),
                    nodes: Array.from(nodes.values()).map(function (n) { return n.label; }) };
    let note = shown.length < rows.length
      ? "paths of " + shown.length + " of " + rows.length + " access rows (the table below lists all " + rows.length + ")"
      : "paths of all " + rows.length + " access rows";
    if (grouped) note += "; subjects of one kind taking the same first shared hop are drawn as one node with their count (their own workloads folded in)";
    say("irsa-graph-title", title + ": " + note);
    if (search !== undefined && state.tables["irsa-access"]) state.tables["irsa-access"].search(search).draw();
  }

  function focusValue(D, v) {
    const val = D.values[v];
    draw(D, "who can read " + val[0] + " (" + (val[3] || "key unknown") + ")", index(D, "value")[v] || [], val[0]);
  }
  function focusSubject(D, s) {
    draw(D, "what " + D.subjects[s][0] + " can read", index(D, "subject")[s] || [], D.subjects[s][0]);
  }
  function focusNamespace(D, ns) {
    draw(D, "what subjects in " + ns + " can read", index(D, "namespace")[ns] || [], "");
  }
  state.focusValue = function (name) {
    const D = state.D, v = D.values.findIndex(function (x) { return x[0] === name || x[1] === name; });
    if (v >= 0) focusValue(D, v);
    return v;
  };

  function clickable(t, handler) {
    if (!t) return;
    t.on("click", "tbody tr", function () { const d = t.row(this).data(); if (d) handler(d); });
  }

  async function main() {
    say("irsa-status", "loading the report data…");
    try {
      const [DataTable] = await Promise.all([loadDataTables(), loadData()]);
      const D = state.D = window.IRSA_REPORT_DATA, A = state.A = D.aggregates;
      const ta = table(DataTable, "irsa-access",
        ["subject", "kind", "value", "key", "access", "decision", "complete", "path", "conditions / unknown"],
        accessData(D), { pageLength: 25 });
      const tv = table(DataTable, "irsa-values",
        ["value", "key", "owner namespace", "readers", "readers (allowed, not potential)", "readers outside the owner",
         "of them allowed outright"],
        A.values.map(function (r) { return r.slice(1); }));
      clickable(tv, function (d) { focusValue(D, D.values.findIndex(function (x) { return x[0] === d[0]; })); });
      const ts = table(DataTable, "irsa-subjects",
        ["subject", "kind", "values", "values (allowed, not potential)", "values outside its namespace"],
        A.subjects.map(function (r) { return r.slice(1); }));
      clickable(ts, function (d) { focusSubject(D, D.subjects.findIndex(function (x) { return x[0] === d[0]; })); });
      const tn = table(DataTable, "irsa-namespaces",
        ["namespace", "subjects reaching a value", "values they read", "values it owns", "reads of its values from outside"],
        A.namespaces);
      clickable(tn, function (d) { focusNamespace(D, d[0]); });
      table(DataTable, "irsa-findings",
        ["severity", "rule", "slug", "title", "resource", "status", "evidence", "remediation"],
        D.findings.map(function (f) { return f.slice(0, 6).concat([f[6].join("; "), f[7]]); }));
      if (A.values.length) focusValue(D, A.values[0][0]);
      say("irsa-status", "");
      window.__irsaReadyAt = performance.now();
      app.dataset.ready = "yes";
    } catch (err) {
      say("irsa-status", "The interactive tables could not be drawn: " + err.message);
      app.dataset.ready = "error";
    }
  }
  main();
})();
