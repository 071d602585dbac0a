/* irsa_lib access report: tables, team sections and focused graphs drawn from the report's data
   (report_data.js). DataTables (from the itables package) and vis-network (from pyvis) are inlined in
   the page; this file wires them to the data. Every cell is rendered as text (DataTable.render.text()),
   and graph labels and hover texts are plain strings, so nothing from the data is read as HTML.

   The tables use DataTables' server-side processing interface (https://datatables.net/manual/server-side)
   with the "server" in this page: DataTables holds only the rows of the page it shows and asks
   `Source.query` for them. Handed all 350,000 rows of an organisation, DataTables builds an object per
   row before it draws anything (tens of seconds); this way a table is ready at once, and a search tests
   each distinct subject, value or path suffix once instead of each row's text. */
(function () {
  "use strict";
  const ACCESS = ["direct", "via-controller", "potential"];
  const DECISION = ["allow", "conditional"];
  const SEP = " \u2192 ";
  const app = document.getElementById("irsa-app");
  const CONF = JSON.parse(document.getElementById("irsa-config").textContent);
  const state = { tables: {}, sources: {}, network: null, D: null, A: null, team: null };
  window.irsaReport = state;

  function mark(name) { try { performance.mark("irsa:" + name); } catch (e) { /* marks are optional */ } }
  function el(id) { return document.getElementById(id); }
  function say(id, text) { const e = el(id); if (e) e.textContent = text; }
  function lazy(make) { let v, done = false; return function () { if (!done) { v = make(); done = true; } return v; }; }
  function text(x) { return x === null || x === undefined ? "" : String(x); }

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
    return first < 0 ? D.suffixes[D.rows.p[r]] : [first].concat(D.suffixes[D.rows.p[r]]);
  }

  // ------------------------------------------------------------------ columns and queries
  // A column: `cell(r)` its text in row r; `match(word)` a test of row r for a lower-case word;
  // `key()` a sort key of row r (equal texts, equal keys).

  // A column whose row r holds the text texts()[ids()[r]] (ids() null: texts()[r]).
  function distinct(ids, texts, numeric) {
    const I = lazy(ids), T = lazy(function () { return texts().map(numeric ? Number : text); });
    const L = lazy(function () { return T().map(function (t) { return String(t).toLowerCase(); }); });
    const rank = lazy(function () {
      const t = T(), order = t.map(function (_, i) { return i; });
      order.sort(numeric ? function (a, b) { return t[a] - t[b]; }
                         : function (a, b) { return t[a] < t[b] ? -1 : t[a] > t[b] ? 1 : 0; });
      const rk = new Int32Array(t.length);
      for (let i = 0, k = 0; i < order.length; i++) {
        if (i && t[order[i]] !== t[order[i - 1]]) k++;
        rk[order[i]] = k;
      }
      return rk;
    });
    return {
      cell: function (r) { const i = I(); return String(T()[i ? i[r] : r]); },
      match: function (word) {
        const l = L(), hit = new Uint8Array(l.length), i = I();
        for (let j = 0; j < l.length; j++) hit[j] = l[j].indexOf(word) >= 0 ? 1 : 0;
        return i ? function (r) { return hit[i[r]] === 1; } : function (r) { return hit[r] === 1; };
      },
      key: function () { const rk = rank(), i = I(); return i ? function (r) { return rk[i[r]]; } : function (r) { return rk[r]; }; },
    };
  }

  // The path column of the access rows: the first hop's label, then the row's suffix (a list of
  // labels shared by many rows). Labels are joined by " → ", so text without that arrow and without
  // a space at either end lies inside one label: it is tested on each label once, and a suffix holds
  // it when one of its labels does.
  function pathColumn(D) {
    const R = D.rows;
    const labels = lazy(function () { return D.labels.map(function (l) { return l.toLowerCase(); }); });
    function cell(r) { return chain(D, r).map(function (i) { return D.labels[i]; }).join(SEP); }
    return {
      cell: cell,
      match: function (word) {
        if (/^\s|\s$|\u2192/.test(word)) return function (r) { return cell(r).toLowerCase().indexOf(word) >= 0; };
        const lf = labels(), hf = new Uint8Array(lf.length), hs = new Uint8Array(D.suffixes.length);
        for (let j = 0; j < lf.length; j++) hf[j] = lf[j].indexOf(word) >= 0 ? 1 : 0;
        D.suffixes.forEach(function (c, j) { for (let i = 0; i < c.length; i++) if (hf[c[i]]) { hs[j] = 1; return; } });
        return function (r) { const f = R.f[r]; return (f >= 0 && hf[f] === 1) || hs[R.p[r]] === 1; };
      },
      key: function () {
        const n = R.s.length, all = new Array(n), order = new Int32Array(n), rk = new Int32Array(n);
        for (let r = 0; r < n; r++) { all[r] = cell(r); order[r] = r; }
        order.sort(function (a, b) { return all[a] < all[b] ? -1 : all[a] > all[b] ? 1 : 0; });
        for (let i = 0, k = 0; i < n; i++) { if (i && all[order[i]] !== all[order[i - 1]]) k++; rk[order[i]] = k; }
        return function (r) { return rk[r]; };
      },
    };
  }

  function accessColumns(D) {
    const R = D.rows, S = D.subjects, V = D.values;
    function byK(f) { const t = []; for (let k = 0; k < ACCESS.length * 4; k++) t.push(f(k)); return t; }
    function pick(list, i) { return function () { return list.map(function (x) { return x[i]; }); }; }
    return [
      distinct(function () { return R.s; }, pick(S, 0)),
      distinct(function () { return R.s; }, pick(S, 1)),
      distinct(function () { return R.v; }, pick(V, 0)),
      distinct(function () { return R.v; }, pick(V, 3)),
      distinct(function () { return R.k; }, function () { return byK(function (k) { return ACCESS[k >> 2]; }); }),
      distinct(function () { return R.k; }, function () { return byK(function (k) { return DECISION[(k >> 1) & 1]; }); }),
      distinct(function () { return R.k; }, function () { return byK(function (k) { return (k & 1) ? "yes" : "no"; }); }),
      pathColumn(D),
      distinct(function () { return Int32Array.from(R.u, function (u) { return u + 1; }); },
               function () { return [""].concat(D.notes); }),
    ];
  }

  // The columns of a table held as a list of rows (lists of cells).
  function listColumns(rows, count) {
    const cols = [];
    for (let c = 0; c < count; c++) {
      const numeric = rows.length > 0 && typeof rows[0][c] === "number";
      cols.push(distinct(function () { return null; }, function () { return rows.map(function (x) { return x[c]; }); }, numeric));
    }
    return cols;
  }

  // DataTables' smart search: words and "quoted phrases", each must be found, case-insensitively.
  function words(value) {
    const out = [];
    (text(value).match(/"[^"]*"|[^\s"]+/g) || []).forEach(function (w) {
      w = w.replace(/^"|"$/g, "").toLowerCase();
      if (w) out.push(w);
    });
    return out;
  }

  // The rows of one table (`base`: the row numbers it shows, in order; null: all `total` rows) and
  // the answer to a DataTables request over them.
  function Source(columns, total, base) {
    this.columns = columns;
    this.total = total;
    this.setBase(base);
  }
  Source.prototype.setBase = function (base) {
    this.base = base ? Int32Array.from(base) : null;
    this.cached = { key: null, rows: null };
    this.page = [];
  };
  Source.prototype.rows = function (search, columnSearch, order) {
    const key = JSON.stringify([search, columnSearch, order]);
    if (this.cached.key === key) return this.cached.rows;
    const cols = this.columns, tests = [];
    words(search).forEach(function (w) {
      const any = cols.map(function (c) { return c.match(w); });
      tests.push(function (r) { for (let i = 0; i < any.length; i++) if (any[i](r)) return true; return false; });
    });
    columnSearch.forEach(function (value, c) { words(value).forEach(function (w) { tests.push(cols[c].match(w)); }); });
    const base = this.base, n = base ? base.length : this.total;
    let rows;
    if (tests.length) {
      const out = [];
      for (let j = 0; j < n; j++) {
        const r = base ? base[j] : j;
        let ok = true;
        for (let t = 0; t < tests.length && ok; t++) ok = tests[t](r);
        if (ok) out.push(r);
      }
      rows = Int32Array.from(out);
    } else {
      rows = base ? base.slice() : Int32Array.from({ length: n }, function (_, r) { return r; });
    }
    if (order.length) {
      const keys = order.map(function (o) { return [cols[o[0]].key(), o[1] === "desc" ? -1 : 1]; });
      const at = new Map();
      rows.forEach(function (r, j) { at.set(r, j); });
      rows.sort(function (a, b) {
        for (let i = 0; i < keys.length; i++) {
          const d = keys[i][0](a) - keys[i][0](b);
          if (d) return d * keys[i][1];
        }
        return at.get(a) - at.get(b);  // ties keep the table's own order
      });
    }
    this.cached = { key: key, rows: rows };
    return rows;
  };
  // A DataTables server-side request -> its answer (only the page's rows are made into cells).
  Source.prototype.query = function (q) {
    const rows = this.rows(q.search ? q.search.value : "",
                           (q.columns || []).map(function (c) { return c.search ? c.search.value : ""; }),
                           (q.order || []).map(function (o) { return [Number(o.column), o.dir]; }));
    const page = q.length < 0 ? rows : rows.subarray(q.start, q.start + q.length);
    const cols = this.columns;
    this.page = Array.from(page);
    return {
      draw: q.draw,
      recordsTotal: this.base ? this.base.length : this.total,
      recordsFiltered: rows.length,
      data: this.page.map(function (r) { return cols.map(function (c) { return c.cell(r); }); }),
    };
  };

  function table(DataTable, id, titles, source, extra) {
    const node = el(id);
    if (!node) return null;
    const cols = titles.map(function (t) {
      return { title: t, type: "string", render: DataTable.render.text(), className: t === "path" ? "irsa-path" : "" };
    });
    const t = new DataTable(node, Object.assign({
      serverSide: true, columns: cols, pageLength: 10, lengthMenu: [10, 25, 100, 500], order: [],
      autoWidth: false, searchDelay: 250,
      ajax: function (q, callback) { callback(source.query(q)); },
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
    state.sources[id] = source;
    return t;
  }

  function clickable(t, source, handler) {
    if (!t) return;
    t.on("click", "tbody tr", function () {
      const i = t.row(this).index();
      if (i !== undefined && source.page[i] !== undefined) handler(source.page[i]);
    });
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
  // are drawn as one node saying how many they are (its hover text names them). When the chains
  // would still hold more than CONF.node_budget nodes (1,600 readers each through its own role), the
  // nodes of one type at one distance from the value, when more than CONF.class_at, are drawn as one
  // node with their count (the values too, when a subject reads hundreds): the chain keeps its shape
  // and says how many it holds.
  function draw(D, title, rows, search) {
    const box = el("irsa-graph");
    if (!box || !window.vis) return;
    const shown = rows.slice(0, CONF.graph_rows);
    const nodes = new Map(), edges = new Map(), groups = new Map(), readers = new Set(), classes = new Map();
    const grouped = new Set(shown.map(function (r) { return D.rows.s[r]; })).size > CONF.group_at;
    function node(id, label, type, extra) {
      if (nodes.has(id)) return;
      const style = CONF.styles[type] || CONF.styles[""];
      nodes.set(id, Object.assign({ id: id, label: label, title: label + "\n(" + type + ")", shape: style[0],
                                    color: { background: style[1], border: "#444" }, font: { size: 14 } }, extra || {}));
    }
    const RANK = { allow: 0, conditional: 1, potential: 2 };
    function edge(a, b, e, real) {  // real: the graph's edge it stands for (several, when counted)
      const key = a + " " + b, seen = edges.get(key);
      if (!seen) { edges.set(key, { from: a, to: b, e: e, parts: new Set([real]) }); return; }
      seen.parts.add(real);
      if ((RANK[e[1]] || 0) < (RANK[seen.e[1]] || 0)) seen.e = e;  // the strongest of the merged edges
    }
    // each row's subject and the chain drawn after it (the subject's own workloads folded when grouped)
    const paths = shown.map(function (r) {
      const c = chain(D, r), si = D.rows.s[r], s = D.subjects[si];
      readers.add(s[0]);
      const own = c.length && D.labels[c[0]] === s[0];  // the path starts at the subject itself
      let rest = own ? c.slice(1) : c;
      let first = own ? (D.edges[c[0] + " " + c[1]] || ["", "allow", []])
                      : ["runs as", "allow", ["the workload's pods hold the service account's token"]];
      const folded = [];
      if (grouped) {
        // what belongs to one subject alone is folded into its group (its workloads, the "any
        // ExternalSecret someone could create in <ns>" of its namespace): the group points at the
        // first hop the subjects share, and its hover text names what was folded
        while (rest.length > 1 && (D.types[rest[0]] === "workload" || D.labels[rest[0]].startsWith("any "))) {
          folded.push(D.labels[rest[0]]);
          first = D.edges[rest[0] + " " + rest[1]] || first;
          rest = rest.slice(1);
        }
      }
      return { si: si, s: s, rest: rest, first: first, folded: folded };
    });
    // the nodes of each (type, distance from the value); too many nodes: the crowded ones are counted
    const byClass = new Map();
    paths.forEach(function (p) {
      p.rest.forEach(function (i, j) {
        const d = p.rest.length - 1 - j;
        const k = D.types[i] + ":" + d;
        (byClass.get(k) || byClass.set(k, new Set()).get(k)).add(i);
      });
    });
    const distinct = new Set();
    paths.forEach(function (p) { p.rest.forEach(function (i) { distinct.add(i); }); });
    const counting = distinct.size > CONF.node_budget;
    if (counting) {
      byClass.forEach(function (members, k) { if (members.size > CONF.class_at) classes.set(k, members); });
    }
    // the id node i is drawn as at distance d from the value: while counting, a node met at several
    // distances is drawn at each (the chains stay side by side instead of crossing one another)
    function at(i, d) {
      const k = D.types[i] + ":" + d;
      return classes.has(k) ? "c:" + k : counting && d > 0 ? i + "@" + d : i;
    }
    let counted = 0;
    classes.forEach(function (members, k) {
      const type = k.slice(0, k.lastIndexOf(":")), d = Number(k.slice(k.lastIndexOf(":") + 1));
      const names = Array.from(members, function (i) { return D.labels[i]; }).sort();
      counted += members.size;
      const label = names.length + " " + (CONF.type_plural[type] || type + " nodes") +
                    (d ? " (" + d + " step" + (d > 1 ? "s" : "") + " before the value)" : "");
      node("c:" + k, label, type, {
        title: label + ":\n" + names.slice(0, 30).join("\n") +
               (names.length > 30 ? "\n… and " + (names.length - 30) + " more (the table lists every path)" : ""),
        font: { size: 15, bold: true }, borderWidth: 3,
      });
    });
    paths.forEach(function (p) {
      const rest = p.rest, n = rest.length, ids = rest.map(function (i, j) { return at(i, n - 1 - j); });
      let start = "s" + p.si;
      if (grouped) {
        start = "g:" + p.s[1] + ":" + (n ? ids[0] : "");
        const g = groups.get(start) || { kind: p.s[1], members: [], via: new Set() };
        g.members.push(p.s[0]);
        p.folded.forEach(function (f) { g.via.add(f); });
        groups.set(start, g);
      } else {
        node(start, p.s[0], CONF.kinds[p.s[1]] || "");
      }
      rest.forEach(function (i, j) {
        const again = typeof ids[j] === "string" && ids[j].indexOf("@") > 0;  // one of its copies per distance
        node(ids[j], D.labels[i], D.types[i], again
          ? { title: D.labels[i] + "\n(" + D.types[i] + "; drawn once for each of its distances from the value)" } : null);
      });
      if (n) edge(start, ids[0], p.first, "s" + p.si + " " + rest[0]);
      for (let j = 0; j + 1 < n; j++) {
        const real = rest[j] + " " + rest[j + 1];
        edge(ids[j], ids[j + 1], D.edges[real] || ["", "allow", []], real);
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
    const drawn = Array.from(edges.values(), function (x) {
      const style = edgeStyle(x.e);
      if (x.parts.size > 1) style.title = x.parts.size + " edges drawn as one; the strongest:\n" + style.title;
      return Object.assign({ from: x.from, to: x.to }, style);
    });
    const data = { nodes: new vis.DataSet(Array.from(nodes.values())), edges: new vis.DataSet(drawn) };
    const options = {
      layout: { hierarchical: { enabled: true, direction: "LR", sortMethod: "directed", shakeTowards: "leaves",
                                levelSeparation: 280, nodeSpacing: counting ? 110 : 60 } },
      physics: { enabled: false }, interaction: { hover: true, tooltipDelay: 80 },
      edges: { smooth: { type: "cubicBezier", forceDirection: "horizontal" } },
    };
    if (state.network) state.network.destroy();
    state.network = new vis.Network(box, data, options);
    state.network.fit();
    state.focus = { title: title, rows: rows.length, shown: shown.length, readers: Array.from(readers), counted: classes.size,
                    nodes: Array.from(nodes.values()).map(function (n) { return n.label; }) };
    let note = shown.length < rows.length
      ? "paths of " + shown.length + " of " + rows.length + " access rows (the table below lists all " + rows.length + ")"
      : "paths of all " + rows.length + " access rows";
    if (grouped) note += "; subjects of one kind taking the same first shared hop are drawn as one node with their count (their own workloads folded in)";
    if (classes.size) note += "; " + counted + " nodes of one type at one distance from the value are drawn as " + classes.size + " nodes with their count (hover for their names)";
    say("irsa-graph-title", title + ": " + note);
    if (search !== undefined && state.tables["irsa-access"]) state.tables["irsa-access"].search(search).draw();
  }

  // a table search for exactly this text (one quoted phrase, unless the text holds a quote itself)
  function phrase(t) { return t.indexOf("\"") < 0 ? "\"" + t + "\"" : t; }
  function focusValue(D, v) {
    const val = D.values[v];
    draw(D, "who can read " + val[0] + " (" + (val[3] || "key unknown") + ")", index(D, "value")[v] || [], phrase(val[0]));
  }
  function focusSubject(D, s) {
    draw(D, "what " + D.subjects[s][0] + " can read", index(D, "subject")[s] || [], phrase(D.subjects[s][0]));
  }
  function focusNamespace(D, ns) {
    draw(D, "what subjects in " + ns + " can read", index(D, "namespace")[ns] || [], "");
  }
  state.focusValue = function (name) {
    const D = state.D, v = D.values.findIndex(function (x) { return x[0] === name || x[1] === name; });
    if (v >= 0) focusValue(D, v);
    return v;
  };

  // ------------------------------------------------------------------ team (namespace) sections
  // A team is a namespace of a cluster ("prod/billing"): its subjects, the values it owns (named
  // after the namespace: /billing/...), who outside the namespace reads them, and its findings.
  function teamOf(D, key) {
    const A = D.aggregates, cut = key.indexOf("/"), cluster = key.slice(0, cut), ns = key.slice(cut + 1);
    const subjects = [], values = [], owned = new Set(), outside = [];
    A.subjects.forEach(function (r, i) { const s = D.subjects[r[0]]; if (s[2] === cluster && s[3] === ns) subjects.push(i); });
    A.values.forEach(function (r, i) { if (D.values[r[0]][5] === ns) { values.push(i); owned.add(r[0]); } });
    const byValue = index(D, "value");
    owned.forEach(function (v) {
      (byValue[v] || []).forEach(function (r) { if (D.subjects[D.rows.s[r]][3] !== ns) outside.push(r); });
    });
    outside.sort(function (a, b) { return a - b; });
    return { key: key, ns: ns, subjects: subjects, values: values, owned: owned, outside: outside,
             findings: (A.team_findings || {})[key] || [] };
  }

  function focusOwned(D, team) {
    const byValue = index(D, "value"), rows = [];
    team.owned.forEach(function (v) { (byValue[v] || []).forEach(function (r) { rows.push(r); }); });
    rows.sort(function (a, b) { return a - b; });
    draw(D, "who can read the values " + team.key + " owns", rows, "");
  }

  function openTeam(key, scroll) {
    const D = state.D, panel = el("irsa-team");
    if (!panel || !D.aggregates.namespaces.some(function (r) { return r[0] === key; })) return false;
    if (!state.teamTables) teamTables(state.DataTable, D);  // made when first opened
    const team = state.team = teamOf(D, key);
    const T = state.teamTables;
    [[T.subjects, team.subjects], [T.values, team.values], [T.outside, team.outside], [T.findings, team.findings]]
      .forEach(function (p) { state.sources[p[0]].setBase(p[1]); state.tables[p[0]].draw(); });
    say("irsa-team-title", "Team " + key);
    say("irsa-team-summary",
        team.subjects.length + " subjects reaching a value; " + team.values.length + " values it owns (named /" +
        team.ns + "/…), read " + team.outside.length + " times by subjects outside the namespace; " +
        team.findings.length + " findings on its objects, its values, or the roles and keys its subjects' paths use.");
    panel.hidden = false;
    const hint = el("irsa-team-hint");
    if (hint) hint.hidden = true;
    if (team.owned.size) focusOwned(D, team); else focusNamespace(D, key);
    if (history.replaceState) history.replaceState(null, "", "#team=" + encodeURIComponent(key));
    if (scroll) panel.scrollIntoView();
    return true;
  }
  state.openTeam = function (key) { return openTeam(key, false); };

  function teamTables(DataTable, D) {
    const A = D.aggregates;
    const T = state.teamTables = { subjects: "irsa-team-subjects", values: "irsa-team-values",
                                   outside: "irsa-team-outside", findings: "irsa-team-findings" };
    const ts = table(DataTable, T.subjects, ["subject", "kind", "values", "values (allowed, not potential)", "values outside its namespace"],
                     new Source(listColumns(A.subjects.map(function (r) { return r.slice(1); }), 5), A.subjects.length, []));
    clickable(ts, state.sources[T.subjects], function (i) { focusSubject(D, A.subjects[i][0]); });
    const tv = table(DataTable, T.values, VALUE_TITLES,
                     new Source(listColumns(A.values.map(function (r) { return r.slice(1); }), 7), A.values.length, []));
    clickable(tv, state.sources[T.values], function (i) { focusValue(D, A.values[i][0]); });
    const to = table(DataTable, T.outside, ACCESS_TITLES, new Source(accessColumns(D), D.rows.s.length, []));
    clickable(to, state.sources[T.outside], function (r) { focusValue(D, D.rows.v[r]); });
    table(DataTable, T.findings, FINDING_TITLES, new Source(listColumns(findingRows(D), 8), D.findings.length, []));
    const reads = el("irsa-team-reads"), owns = el("irsa-team-owns");
    function toGraph() { const box = el("irsa-graph-title"); if (box) box.scrollIntoView(); }
    if (reads) reads.addEventListener("click", function () { if (state.team) { focusNamespace(D, state.team.key); toGraph(); } });
    if (owns) owns.addEventListener("click", function () { if (state.team) { focusOwned(D, state.team); toGraph(); } });
  }

  // ------------------------------------------------------------------ the page
  const ACCESS_TITLES = ["subject", "kind", "value", "key", "access", "decision", "complete", "path", "conditions / unknown"];
  const VALUE_TITLES = ["value", "key", "owner namespace", "readers", "readers (allowed, not potential)",
                        "readers outside the owner", "of them allowed outright"];
  const FINDING_TITLES = ["severity", "rule", "slug", "title", "resource", "status", "evidence", "remediation"];
  function findingRows(D) { return D.findings.map(function (f) { return f.slice(0, 6).concat([f[6].join("; "), f[7]]); }); }

  async function main() {
    say("irsa-status", "loading the report data…");
    try {
      mark("start");
      const [DataTable] = await Promise.all([
        loadDataTables().then(function (x) { mark("datatables"); return x; }),
        loadData().then(function () { mark("data"); })]);
      const D = state.D = window.IRSA_REPORT_DATA, A = state.A = D.aggregates;
      state.DataTable = DataTable;
      table(DataTable, "irsa-access", ACCESS_TITLES, new Source(accessColumns(D), D.rows.s.length, null), { pageLength: 25 });
      const tv = table(DataTable, "irsa-values", VALUE_TITLES,
                       new Source(listColumns(A.values.map(function (r) { return r.slice(1); }), 7), A.values.length, null));
      clickable(tv, state.sources["irsa-values"], function (i) { focusValue(D, A.values[i][0]); });
      const ts = table(DataTable, "irsa-subjects",
        ["subject", "kind", "values", "values (allowed, not potential)", "values outside its namespace"],
        new Source(listColumns(A.subjects.map(function (r) { return r.slice(1); }), 5), A.subjects.length, null));
      clickable(ts, state.sources["irsa-subjects"], function (i) { focusSubject(D, A.subjects[i][0]); });
      const tn = table(DataTable, "irsa-namespaces",
        ["namespace", "subjects reaching a value", "values they read", "values it owns", "reads of its values from outside"],
        new Source(listColumns(A.namespaces, 5), A.namespaces.length, null));
      clickable(tn, state.sources["irsa-namespaces"], function (i) { openTeam(A.namespaces[i][0], true); });
      table(DataTable, "irsa-findings", FINDING_TITLES, new Source(listColumns(findingRows(D), 8), D.findings.length, null));
      const fixes = el("irsa-fixes-data");  // the fixes section's rows, embedded in the page
      if (fixes) {
        const F = JSON.parse(fixes.textContent);
        table(DataTable, "irsa-fixes", F.columns, new Source(listColumns(F.rows, F.columns.length), F.rows.length, null));
      }
      mark("tables");
      const hash = /^#team=(.+)$/.exec(location.hash);
      if (!(hash && openTeam(decodeURIComponent(hash[1]), true)) && A.values.length) focusValue(D, A.values[0][0]);
      mark("graph");
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
