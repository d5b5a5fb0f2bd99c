// The dashboard page served at GET /dashboard: one static HTML document with its CSS and vanilla
// JS inline, no build step and nothing fetched from elsewhere (meshes run on closed networks). It
// listens to /dashboard/events (SSE; polls /dashboard/snapshot.json where EventSource is missing)
// and redraws an inline SVG graph with a deterministic layered layout: sources on the left, each
// service one column right of its furthest caller. Data is set with textContent only, so a
// service name can never become markup. The script uses no template literals, so it can live in
// this one.

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dietmesh dashboard</title>
<link rel="icon" href="data:,">
<style>
  :root { --bg: #f6f7f9; --panel: #fff; --ink: #1d2330; --dim: #667085; --line: #d0d5dd;
          --ok: #12b76a; --warn: #f79009; --bad: #d92d20; --svc: #2e6bd8; --gw: #7a3fd1; --unk: #98a2b3; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--ink); }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 18px; padding: 12px 20px; background: var(--panel); border-bottom: 1px solid var(--line); }
  header h1 { font-size: 16px; margin: 0; }
  .stat b { font-size: 18px; font-variant-numeric: tabular-nums; }
  .stat { color: var(--dim); }
  .stat b { color: var(--ink); }
  #status { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #eee; }
  #status.live { background: #d1fadf; color: #05603a; }
  #status.down { background: #fee4e2; color: #912018; }
  #sources { color: var(--dim); font-size: 12px; padding: 6px 20px; }
  #sources .down { color: var(--bad); }
  main { padding: 0 20px 20px; }
  .panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; margin-top: 12px; overflow: auto; }
  svg { display: block; }
  svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: var(--ink); }
  svg .name { font-weight: 600; font-size: 13px; }
  svg .dim { fill: var(--dim); font-size: 11px; }
  svg .box { fill: #fff; stroke-width: 2; }
  svg .node.service .box { stroke: var(--svc); }
  svg .node.gateway .box { stroke: var(--gw); }
  svg .node.unknown .box { stroke: var(--unk); stroke-dasharray: 4 3; }
  svg .bar-bg { fill: #eef2f6; }
  svg .bar { fill: var(--svc); }
  svg .edge { fill: none; }
  svg .edge-label { font-size: 11px; }
  svg .badge-mtls { fill: #d1fadf; } svg .badge-none { fill: #eaecf0; } svg .badge-mixed { fill: #fef0c7; } svg .badge-unknown { fill: #f2f4f7; }
  svg .alert { fill: var(--bad); font-weight: 600; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid #eaecf0; white-space: nowrap; }
  th { color: var(--dim); font-weight: 500; background: #fafbfc; }
  td.num, th.num { text-align: right; }
  .legend { color: var(--dim); font-size: 12px; padding: 8px 12px; }
  .empty { padding: 30px; color: var(--dim); }
</style>
</head>
<body>
<header>
  <h1>dietmesh <span id="self"></span></h1>
  <span id="status">connecting</span>
  <span class="stat"><b id="total-rps" data-value="0">0</b> req/s</span>
  <span class="stat"><b id="total-requests" data-value="0">0</b> requests</span>
  <span class="stat">5xx <b id="total-errors">-</b></span>
  <span class="stat">p99 <b id="total-p99">-</b></span>
  <span class="stat" id="updated"></span>
</header>
<div id="sources"></div>
<main>
  <div class="panel" id="graph-panel"><svg id="graph" xmlns="http://www.w3.org/2000/svg" width="600" height="200"></svg></div>
  <div class="legend">Edges: width = request rate, colour = 5xx share (green none, amber some, red over 5 %), solid = mTLS, dashed = plaintext or unknown.
    Rates over the last <span id="window">-</span> s. Breaker: UO = 503 overflows (connection pool / http2MaxRequests), sat = pool saturation; ejected = hosts out by outlier detection.</div>
  <div class="panel"><table id="edges"><thead><tr><th>from</th><th>to</th><th class="num">req/s</th><th class="num">5xx</th><th class="num">p99</th><th>mTLS</th><th class="num">requests</th></tr></thead><tbody></tbody></table></div>
  <div class="panel"><table id="services"><thead><tr><th>service</th><th>version</th><th class="num">share</th><th class="num">req/s</th><th class="num">5xx</th><th class="num">p99</th><th class="num">ejected</th><th>breaker</th><th>inbound mTLS</th></tr></thead><tbody></tbody></table></div>
</main>
<script>
"use strict";
var SVGNS = "http://www.w3.org/2000/svg";
var NODE_W = 230, COL_GAP = 160, ROW_GAP = 26, PAD = 24, LINE = 17;

function el(tag, attrs, parent, text) {
  var e = document.createElementNS(SVGNS, tag);
  for (var k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function cell(tr, text, cls) {
  var td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}
function rate(n) { return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2); }
function pct(n) { return n === null || n === undefined ? "-" : (n * 100).toFixed(n > 0 && n < 0.1 ? 1 : 0) + "%"; }
function ms(n) { return n === null || n === undefined ? "-" : n >= 1000 ? (n / 1000).toFixed(2) + " s" : (n >= 10 ? n.toFixed(0) : n.toFixed(1)) + " ms"; }
function errColor(r) { return r === null || r === undefined ? "#98a2b3" : r > 0.05 ? "#d92d20" : r > 0 ? "#f79009" : "#12b76a"; }
function mtlsText(m) { return m === "mutual_tls" ? "mTLS" : m === "none" ? "plain" : m === "mixed" ? "mixed" : "?"; }
function mtlsClass(m) { return m === "mutual_tls" ? "badge-mtls" : "badge-" + m; }
function breakerText(b) {
  if (!b) return "-";
  var parts = ["UO " + b.overflows + (b.overflowRate > 0 ? " (" + rate(b.overflowRate) + "/s)" : "")];
  if (b.saturation !== null) parts.push("sat " + pct(b.saturation));
  parts.push(b.active + " active");
  if (b.pending) parts.push(b.pending + " pending");
  return parts.join(" \\u00b7 ");
}

/** column per node: sources at 0, each other node one right of its furthest caller */
function layout(snapshot) {
  var nodes = snapshot.nodes, edges = snapshot.edges, byId = {}, callers = {}, depth = {};
  nodes.forEach(function (n) { byId[n.id] = n; callers[n.id] = []; });
  edges.forEach(function (e) { if (e.from !== e.to && callers[e.to] && byId[e.from]) callers[e.to].push(e.from); });
  var linked = {};
  edges.forEach(function (e) { linked[e.from] = linked[e.to] = true; });
  function d(id, stack) {
    if (depth[id] !== undefined) return depth[id];
    if (stack[id]) return 0;
    stack[id] = true;
    var m = 0;
    callers[id].forEach(function (c) { m = Math.max(m, d(c, stack) + 1); });
    stack[id] = false;
    return (depth[id] = m);
  }
  nodes.forEach(function (n) { d(n.id, {}); if (!linked[n.id] && n.kind !== "gateway") depth[n.id] = Math.max(depth[n.id], 1); });
  var columns = [];
  nodes.forEach(function (n) { (columns[depth[n.id]] = columns[depth[n.id]] || []).push(n); });
  var pos = {}, kindOrder = { gateway: 0, unknown: 1, service: 2 }, height = 0;
  columns.forEach(function (col, ci) {
    if (!col) return;
    col.forEach(function (n) {
      var ys = callers[n.id].filter(function (c) { return pos[c]; }).map(function (c) { return pos[c].cy; });
      n._order = ys.length ? ys.reduce(function (a, b) { return a + b; }, 0) / ys.length : -1;
    });
    col.sort(function (a, b) {
      return (kindOrder[a.kind] - kindOrder[b.kind]) || (a._order - b._order) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    });
    var y = PAD;
    col.forEach(function (n) {
      var h = nodeHeight(n);
      pos[n.id] = { x: PAD + ci * (NODE_W + COL_GAP), y: y, h: h, cy: y + h / 2 };
      y += h + ROW_GAP;
    });
    height = Math.max(height, y);
  });
  return { pos: pos, width: PAD * 2 + columns.length * NODE_W + Math.max(0, columns.length - 1) * COL_GAP, height: height + PAD - ROW_GAP };
}
function nodeHeight(n) { return 44 + LINE + n.versions.length * LINE + (n.breaker && n.in.requests ? LINE : 0); }

function drawNode(svg, n, p) {
  var g = el("g", { "class": "node " + n.kind, "data-node": n.name, "data-id": n.id, transform: "translate(" + p.x + "," + p.y + ")" }, svg);
  el("rect", { "class": "box", width: NODE_W, height: p.h, rx: 8 }, g);
  el("text", { "class": "name", x: 12, y: 20 }, g, n.name);
  el("text", { "class": "dim", x: 12, y: 36 }, g, (n.kind === "gateway" ? "gateway \\u00b7 " : n.kind === "unknown" ? "outside the mesh \\u00b7 " : "") + (n.namespace || ""));
  if (n.in.requests) {
    var badge = el("g", { transform: "translate(" + (NODE_W - 58) + ",8)" }, g);
    el("rect", { "class": mtlsClass(n.mtls), width: 48, height: 18, rx: 9 }, badge);
    el("text", { "class": "dim mtls", x: 24, y: 13, "text-anchor": "middle", "data-mtls": n.mtls }, badge, mtlsText(n.mtls));
  }
  var y = 44 + 12;
  var line = n.in.requests
    ? "in " + rate(n.in.rps) + "/s \\u00b7 5xx " + pct(n.in.errorRate) + " \\u00b7 p99 " + ms(n.in.p99)
    : "out " + rate(n.outRps) + "/s";
  el("text", { "class": "traffic", x: 12, y: y, "data-rps": n.in.requests ? n.in.rps : n.outRps }, g, line);
  n.versions.forEach(function (v) {
    y += LINE;
    var row = el("g", { "class": "version", "data-version": v.version }, g);
    el("text", { x: 12, y: y }, row, v.version);
    el("rect", { "class": "bar-bg", x: 62, y: y - 9, width: 70, height: 10, rx: 2 }, row);
    el("rect", { "class": "bar", x: 62, y: y - 9, width: Math.round(70 * (v.share || 0)), height: 10, rx: 2 }, row);
    el("text", { x: 138, y: y, "class": "share" }, row, pct(v.share) + " " + rate(v.rps) + "/s");
    if (v.ejected) el("text", { x: NODE_W - 10, y: y, "text-anchor": "end", "class": "alert" }, row, "ejected " + v.ejected + "/" + v.hosts);
  });
  if (n.breaker && n.in.requests) {
    y += LINE;
    var b = n.breaker, hot = b.overflowRate > 0 || b.ejected > 0;
    el("text", { x: 12, y: y, "class": hot ? "alert breaker" : "dim breaker" }, g,
      "UO " + b.overflows + (b.saturation !== null ? " \\u00b7 sat " + pct(b.saturation) : "") + " \\u00b7 ejected " + b.ejected + "/" + b.hosts);
  }
}

function drawEdge(svg, labels, e, a, b) {
  var x1 = a.x + NODE_W, y1 = a.cy, x2 = b.x, y2 = b.cy;
  if (b.x <= a.x) { x2 = b.x + NODE_W / 2; y2 = b.y + (b.y > a.y ? 0 : b.h); x1 = a.x + NODE_W / 2; y1 = a.y + (b.y > a.y ? a.h : 0); }
  var mx = (x1 + x2) / 2, color = e.rps > 0 ? errColor(e.errorRate) : "#98a2b3";
  var width = 1.5 + Math.min(6, Math.log(1 + e.rps) / Math.LN2);
  var attrs = { "class": "edge", d: "M" + x1 + "," + y1 + " C" + mx + "," + y1 + " " + mx + "," + y2 + " " + (x2 - 4) + "," + y2,
    stroke: color, "stroke-width": width.toFixed(1), "marker-end": "url(#arrow)", "data-from": e.from, "data-to": e.to };
  if (e.mtls !== "mutual_tls") attrs["stroke-dasharray"] = "6 4";
  el("path", attrs, svg);
  var lx = mx, ly = (y1 + y2) / 2;
  // above the curve's midpoint, so a near-horizontal edge does not run through its own label
  el("text", { "class": "edge-label", x: lx, y: ly - 19, "text-anchor": "middle" }, labels, rate(e.rps) + "/s \\u00b7 " + pct(e.errorRate) + " 5xx");
  el("text", { "class": "edge-label dim", x: lx, y: ly - 6, "text-anchor": "middle" }, labels, "p99 " + ms(e.p99) + " \\u00b7 " + mtlsText(e.mtls));
}

function drawGraph(snapshot) {
  var svg = document.getElementById("graph");
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  var defs = el("defs", {}, svg);
  var marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 8, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto" }, defs);
  el("path", { d: "M0,0 L10,5 L0,10 z", fill: "#667085" }, marker);
  var L = layout(snapshot);
  svg.setAttribute("width", Math.max(L.width, 400));
  svg.setAttribute("height", Math.max(L.height, 120));
  var edgeLayer = el("g", { "class": "edges" }, svg), nodeLayer = el("g", { "class": "nodes" }, svg), labelLayer = el("g", { "class": "labels" }, svg);
  snapshot.edges.forEach(function (e) { if (L.pos[e.from] && L.pos[e.to]) drawEdge(edgeLayer, labelLayer, e, L.pos[e.from], L.pos[e.to]); });
  snapshot.nodes.forEach(function (n) { drawNode(nodeLayer, n, L.pos[n.id]); });
  // labels over nodes and edges, on a white halo so crossing lines stay readable
  Array.prototype.forEach.call(labelLayer.childNodes, function (t) { t.setAttribute("paint-order", "stroke"); t.setAttribute("stroke", "#fff"); t.setAttribute("stroke-width", "4"); });
  if (!snapshot.nodes.length) el("text", { x: PAD, y: 40, "class": "dim" }, svg, "no traffic yet");
}

function drawTables(snapshot) {
  var names = {};
  snapshot.nodes.forEach(function (n) { names[n.id] = n.name; });
  var body = document.querySelector("#edges tbody");
  body.textContent = "";
  snapshot.edges.forEach(function (e) {
    var tr = document.createElement("tr");
    cell(tr, names[e.from] || e.from); cell(tr, names[e.to] || e.to);
    cell(tr, rate(e.rps), "num"); cell(tr, pct(e.errorRate), "num"); cell(tr, ms(e.p99), "num");
    cell(tr, mtlsText(e.mtls) + (e.reporter === "destination" ? " (server report)" : "")); cell(tr, String(e.requests), "num");
    body.appendChild(tr);
  });
  body = document.querySelector("#services tbody");
  body.textContent = "";
  snapshot.nodes.forEach(function (n) {
    if (!n.in.requests) return;
    var rows = n.versions.length ? n.versions : [null];
    rows.forEach(function (v, i) {
      var tr = document.createElement("tr");
      cell(tr, i ? "" : n.name); cell(tr, v ? v.version : "-");
      var s = v || n.in;
      cell(tr, v ? pct(v.share) : "-", "num"); cell(tr, rate(s.rps), "num"); cell(tr, pct(s.errorRate), "num"); cell(tr, ms(s.p99), "num");
      cell(tr, v ? v.ejected + "/" + v.hosts : "-", "num");
      cell(tr, i ? "" : breakerText(n.breaker)); cell(tr, i ? "" : mtlsText(n.mtls));
      body.appendChild(tr);
    });
  });
}

function render(snapshot) {
  document.getElementById("self").textContent = snapshot.self.name;
  var t = snapshot.totals;
  var rps = document.getElementById("total-rps");
  rps.textContent = rate(t.rps); rps.setAttribute("data-value", String(t.rps));
  var req = document.getElementById("total-requests");
  req.textContent = String(t.requests); req.setAttribute("data-value", String(t.requests));
  document.getElementById("total-errors").textContent = pct(t.errorRate);
  document.getElementById("total-p99").textContent = ms(t.p99);
  document.getElementById("window").textContent = snapshot.windowSeconds.toFixed(1);
  document.getElementById("updated").textContent = "updated " + new Date(snapshot.at).toLocaleTimeString();
  var src = document.getElementById("sources");
  src.textContent = snapshot.sources.length > 1 ? "proxies read: " : "";
  if (snapshot.sources.length > 1) snapshot.sources.forEach(function (s, i) {
    var span = document.createElement("span");
    span.textContent = (i ? ", " : "") + s.name + (s.origin === "local" ? " (this proxy)" : " @ " + s.origin) + (s.ok ? "" : " (down: " + s.error + ")");
    if (!s.ok) span.className = "down";
    src.appendChild(span);
  });
  drawGraph(snapshot);
  drawTables(snapshot);
}

function setStatus(text, cls) { var s = document.getElementById("status"); s.textContent = text; s.className = cls; }

function poll() {
  fetch("dashboard/snapshot.json").then(function (r) { return r.json(); }).then(function (s) { setStatus("live (polling)", "live"); render(s); },
    function () { setStatus("unreachable", "down"); }).then(function () { setTimeout(poll, 1000); });
}

if (window.EventSource) {
  var source = new EventSource("dashboard/events");
  source.onmessage = function (m) { setStatus("live", "live"); render(JSON.parse(m.data)); };
  source.onerror = function () { setStatus("reconnecting", "down"); };
} else poll();
</script>
</body>
</html>
`;
