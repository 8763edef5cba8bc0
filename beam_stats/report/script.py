"""The report's inline script: sorting, filtering, and each feature's details built on demand.

The feature table is in the page; a feature's details (chart, statistics, anomalies,
measures) are built from the JSON data block when the feature is opened, so a report of
thousands of features opens fast. Data strings enter the DOM only as text nodes
(``textContent``) and attribute values set by ``setAttribute`` on constant names; no
``innerHTML``, no ``eval``.

The view's state is kept in the URL fragment, so a view can be linked or bookmarked, and the
tests open a report in a given state: ``#q=TEXT`` filters by name, ``sort=KEY`` (``-KEY``
descending; the keys are the columns' ``data-key``), ``by=1`` sorts by the second dataset's
values, ``flagged=1`` keeps the features with anomalies or breaches, and each ``open=NAME``
opens a feature. The root element gets ``data-ready="1"`` once the script has run.
"""

SCRIPT = """
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var table = document.getElementById("feature-table");
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var filterBox = document.getElementById("filter");
  var flaggedBox = document.getElementById("flagged");
  var sortBy = document.getElementById("sort-by");
  var counter = document.getElementById("shown-count");
  var number = new Intl.NumberFormat("en", {maximumSignificantDigits: 4});
  var pct = new Intl.NumberFormat("en", {style: "percent", maximumFractionDigits: 1});
  var byName = Object.create(null);
  data.f.forEach(function (f, i) { byName[f.n] = i; });
  var details = Object.create(null);
  var state = {q: "", sort: "", desc: false, flagged: false, by: 0, open: Object.create(null)};

  function el(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (content !== undefined && content !== null) node.textContent = String(content);
    return node;
  }
  function svg(tag, attrs, parent) {
    var node = document.createElementNS(SVGNS, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function label(parent, x, y, content, anchor, cls) {
    var node = svg("text", {x: x, y: y, "text-anchor": anchor || "start"}, parent);
    if (cls) node.setAttribute("class", cls);
    node.textContent = content;
    return node;
  }
  function tip(node, content) { svg("title", {}, node).textContent = content; }
  function topOf(series) {
    var top = 0;
    series.forEach(function (s) {
      if (s) s.forEach(function (v) { if (v !== null && v > top) top = v; });
    });
    return top > 0 ? top : 1;
  }

  function histogram(c) {
    var W = 560, H = 210, L = 52, R = 14, T = 10, B = 40;
    var n = c.e.length - 1, pw = W - L - R, ph = H - T - B, bw = pw / n;
    var top = topOf(c.s);
    var root = svg("svg", {"class": "chart", width: W, height: H, viewBox: "0 0 " + W + " " + H,
      role: "img", "aria-label": "histogram"});
    [0, 0.5, 1].forEach(function (f) {
      var y = T + ph - f * ph;
      svg("line", {x1: L, x2: W - R, y1: y, y2: y, "class": "grid"}, root);
      label(root, L - 6, y + 4, pct.format(top * f), "end");
    });
    c.s.forEach(function (s, j) {
      if (!s) return;
      s.forEach(function (v, i) {
        if (!(v > 0)) return;
        var h = Math.max(v / top * ph, 1);
        svg("rect", {x: L + i * bw + 1, y: T + ph - h, width: Math.max(bw - 2, 1), height: h,
          "class": "bar d" + j}, root);
      });
    });
    for (var i = 0; i < n; i++) {
      var hit = svg("rect", {x: L + i * bw, y: T, width: bw, height: ph, "class": "hit"}, root);
      var head = "[" + number.format(c.e[i]) + ", " + number.format(c.e[i + 1]) +
        (i === n - 1 ? "]" : ")");
      tip(hit, [head].concat(c.s.map(function (s, j) {
        return data.d[j] + ": " + (s ? pct.format(s[i]) : "no values");
      })).join("\\n"));
    }
    svg("line", {x1: L, x2: W - R, y1: T + ph, y2: T + ph, "class": "axis"}, root);
    var step = n > 10 ? 5 : (n > 5 ? 2 : 1);
    for (var k = 0; k <= n; k += step) {
      var x = L + k * bw;
      svg("line", {x1: x, x2: x, y1: T + ph, y2: T + ph + 4, "class": "axis"}, root);
      var anchor = k === 0 ? "start" : (k === n ? "end" : "middle");
      label(root, x, T + ph + 16, number.format(c.e[k]), anchor);
    }
    return root;
  }

  function bars(c) {
    var W = 560, LW = 170, R = 56, T = 6, n = c.l.length, m = c.s.length;
    var rowH = m > 1 ? 24 : 17, H = T + n * rowH + (c.more > 0 ? 22 : 8);
    var pw = W - LW - R, top = topOf(c.s), barH = (rowH - 5) / m;
    var root = svg("svg", {"class": "chart", width: W, height: H, viewBox: "0 0 " + W + " " + H,
      role: "img", "aria-label": "top values"});
    c.l.forEach(function (value, i) {
      var y0 = T + i * rowH;
      var shown = value.length > 26 ? value.slice(0, 25) + "\\u2026" : value;
      tip(label(root, LW - 8, y0 + rowH / 2 + 3, shown, "end"), value);
      c.s.forEach(function (s, j) {
        if (!s) return;
        var v = s[i], y = y0 + 2 + j * barH;
        if (v === null) {
          var missing = "not in " + data.d[j] + "'s top values";
          label(root, LW + 3, y + barH - 1, missing, "start", "note");
          return;
        }
        var w = Math.max(v / top * pw, v > 0 ? 1 : 0);
        tip(svg("rect", {x: LW, y: y, width: w, height: barH - 1, "class": "bar d" + j}, root),
          data.d[j] + ": " + value + " " + pct.format(v));
        label(root, LW + w + 4, y + barH - 1.5, pct.format(v), "start", m > 1 ? "val" : "");
      });
    });
    svg("line", {x1: LW, x2: LW, y1: T, y2: T + n * rowH, "class": "axis"}, root);
    var more = "and " + c.more + " more listed values";
    if (c.more > 0) label(root, LW, H - 6, more, "start", "note");
    return root;
  }

  function legend() {
    var box = el("div", "legend");
    data.d.forEach(function (name, j) {
      var item = el("span");
      item.appendChild(el("span", "swatch d" + j));
      item.appendChild(document.createTextNode(name));
      box.appendChild(item);
    });
    return box;
  }

  function statsTable(rowsData) {
    var t = el("table", "stats");
    if (data.d.length > 1) {
      var hr = t.createTHead().insertRow();
      hr.appendChild(el("th", "", "statistic"));
      data.d.forEach(function (name) { hr.appendChild(el("th", "", name)); });
    }
    var body = t.createTBody();
    rowsData.forEach(function (r) {
      var tr = body.insertRow();
      r.forEach(function (cell) { tr.appendChild(el("td", "", cell)); });
    });
    return t;
  }

  function issues(f) {
    var box = el("div", "issues");
    if (f.a.length) {
      box.appendChild(el("h3", "", "Anomalies"));
      var ul = box.appendChild(el("ul"));
      f.a.forEach(function (a) {
        var li = ul.appendChild(el("li"));
        li.appendChild(el("span", "badge " + (a[0] === "ERROR" ? "error" : "warning"), a[0]));
        li.appendChild(el("code", "", a[1]));
        li.appendChild(document.createTextNode(" " + a[2] + ": " + a[3]));
      });
    }
    if (f.m.length) {
      box.appendChild(el("h3", "", "Drift and skew"));
      var ml = box.appendChild(el("ul"));
      f.m.forEach(function (m) {
        ml.appendChild(el("li", m[4] ? "breach" : "within", m[0] + " " + m[1] + ": " + m[2] +
          (m[4] ? " > " : " \\u2264 ") + "threshold " + m[3]));
      });
    }
    return box;
  }

  function buildDetails(i) {
    var f = data.f[i];
    var tr = el("tr", "details");
    tr.id = "d-" + i;
    var td = tr.appendChild(el("td"));
    td.colSpan = heads.length;
    var box = td.appendChild(el("div", "detail"));
    var left = box.appendChild(el("div", "chart-box"));
    if (f.c) {
      left.appendChild(legend());
      left.appendChild(f.c.k === "h" ? histogram(f.c) : bars(f.c));
      left.appendChild(el("p", "caption", f.c.k === "h"
        ? "Share of the values in each equal-width bin (NaN not counted)."
        : "Share of the values, the most frequent " +
          (data.d.length > 1 ? "in either dataset " : "") + "first."));
    } else {
      left.appendChild(el("p", "empty", "No chart for this feature."));
    }
    if (f.a.length || f.m.length) left.appendChild(issues(f));
    box.appendChild(statsTable(f.x));
    return tr;
  }

  function setOpen(i, open) {
    var row = rows[i], d = details[i];
    if (open && !d) {
      d = details[i] = buildDetails(i);
      row.parentNode.insertBefore(d, row.nextSibling);
    }
    if (d) d.hidden = !open || row.hidden;
    row.cells[0].firstChild.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) state.open[i] = true; else delete state.open[i];
  }

  function sortKey(cell, numeric) {
    var v = cell.getAttribute(cell.hasAttribute("data-s1") ? "data-s" + state.by : "data-s0");
    if (v === null || v === "") return null;
    if (!numeric) return v.toLowerCase();
    var x = parseFloat(v);
    return isNaN(x) ? null : x;
  }

  var sortedAs = "";  // the order the rows are in: moving 1,000 rows is not free

  function sortRows() {
    var as = state.sort + (state.desc ? "-" : "+") + state.by;
    if (as === sortedAs || (!state.sort && !sortedAs)) return;
    sortedAs = state.sort ? as : "";
    var col = -1;
    heads.forEach(function (th, k) {
      var on = th.getAttribute("data-key") === state.sort;
      th.setAttribute("aria-sort", on ? (state.desc ? "descending" : "ascending") : "none");
      if (on) col = k;
    });
    var order = rows;
    if (col >= 0) {
      var numeric = heads[col].getAttribute("data-kind") === "num";
      var keyed = rows.map(function (row, pos) {
        return {row: row, pos: pos, key: sortKey(row.cells[col], numeric)};
      });
      keyed.sort(function (a, b) {
        if (a.key === null || b.key === null) {  // unknown values last, either way
          return a.key === null ? (b.key === null ? a.pos - b.pos : 1) : -1;
        }
        var c = numeric ? a.key - b.key : (a.key < b.key ? -1 : (a.key > b.key ? 1 : 0));
        return c === 0 ? a.pos - b.pos : (state.desc ? -c : c);
      });
      order = keyed.map(function (k) { return k.row; });
    }
    var frag = document.createDocumentFragment();
    order.forEach(function (row) {
      frag.appendChild(row);
      var d = details[row.getAttribute("data-i")];
      if (d) frag.appendChild(d);
    });
    tbody.appendChild(frag);
  }

  function applyFilter() {
    var q = state.q.toLowerCase(), shown = 0;
    rows.forEach(function (row, i) {
      var visible = (!q || row.getAttribute("data-name").toLowerCase().indexOf(q) >= 0) &&
        (!state.flagged || row.hasAttribute("data-flag"));
      if (row.hidden === visible) row.hidden = !visible;
      if (visible) shown++;
      if (details[i]) details[i].hidden = !visible || !state.open[i];
    });
    counter.textContent = String(shown);
  }

  function readHash() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ""));
    var s = p.get("sort") || "";
    state.q = p.get("q") || "";
    state.desc = s.charAt(0) === "-";
    state.sort = state.desc ? s.slice(1) : s;
    state.flagged = p.get("flagged") === "1";
    state.by = sortBy && p.get("by") === "1" ? 1 : 0;
    var open = Object.create(null);
    p.getAll("open").forEach(function (name) { if (name in byName) open[byName[name]] = true; });
    return open;
  }

  function writeHash() {
    var p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    if (state.sort) p.set("sort", (state.desc ? "-" : "") + state.sort);
    if (state.by) p.set("by", "1");
    if (state.flagged) p.set("flagged", "1");
    Object.keys(state.open).forEach(function (i) { p.append("open", data.f[i].n); });
    var h = p.toString();
    try {
      history.replaceState(null, "", h ? "#" + h : location.pathname + location.search);
    } catch (e) { /* some browsers refuse it on file: pages; the view still works */ }
  }

  function apply() {
    var open = readHash();
    filterBox.value = state.q;
    flaggedBox.checked = state.flagged;
    if (sortBy) sortBy.value = String(state.by);
    Object.keys(state.open).forEach(function (i) { if (!open[i]) setOpen(+i, false); });
    Object.keys(open).forEach(function (i) { setOpen(+i, true); });
    sortRows();
    applyFilter();
    return Object.keys(open);
  }

  function reveal(i) {
    if (rows[i].hidden) { state.q = ""; state.flagged = false; filterBox.value = "";
      flaggedBox.checked = false; applyFilter(); }
    setOpen(i, true);
    rows[i].scrollIntoView({block: "start"});
  }

  tbody.addEventListener("click", function (event) {
    var button = event.target.closest("button.toggle");
    if (!button) return;
    var i = +button.closest("tr").getAttribute("data-i");
    setOpen(i, !state.open[i]);
    writeHash();
  });
  table.tHead.addEventListener("click", function (event) {
    var th = event.target.closest("th");
    if (!th) return;
    var key = th.getAttribute("data-key");
    if (state.sort === key) state.desc = !state.desc;
    else { state.sort = key; state.desc = th.getAttribute("data-kind") === "num"; }
    sortRows();
    writeHash();
  });
  filterBox.addEventListener("input", function () {
    state.q = filterBox.value; applyFilter(); writeHash();
  });
  flaggedBox.addEventListener("change", function () {
    state.flagged = flaggedBox.checked; applyFilter(); writeHash();
  });
  if (sortBy) sortBy.addEventListener("change", function () {
    state.by = +sortBy.value; sortRows(); writeHash();
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#open=']");
    if (!link) return;
    var name = new URLSearchParams(link.getAttribute("href").slice(1)).get("open");
    if (!(name in byName)) return;
    event.preventDefault();
    reveal(byName[name]);
    writeHash();
  });
  window.addEventListener("hashchange", function () {
    var opened = apply();
    if (opened.length) reveal(+opened[0]);
  });
  apply();
  document.documentElement.setAttribute("data-ready", "1");
})();
"""
