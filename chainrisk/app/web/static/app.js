// The credit officer's page. Data from the graph is written with textContent only, never as HTML:
// firm names come from outside the bank.
"use strict";

(function () {
  // cy: the drawing; graph and shown: the neighbourhood drawn and its parties by id; seq: the
  // latest drawing asked for
  const state = { csrf: "", firm: null, cy: null, graph: null, shown: new Map(), seq: 0 };
  const $ = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  async function api(path) {
    const resp = await fetch(path, { headers: { "X-CSRF-Token": state.csrf }, credentials: "same-origin" });
    if (resp.status === 401) {
      window.location.assign("/login");
      throw new Error("logged out");
    }
    const body = await resp.json();
    if (!resp.ok) throw new Error(body.detail || body.error || resp.statusText);
    return body;
  }

  function showError(err) {
    const p = $("error");
    p.textContent = err ? String(err.message || err) : "";
    p.hidden = !err;
  }

  function fmtMoney(v) {
    if (v === null || v === undefined) return "–";
    return Number(v).toLocaleString("en", { maximumFractionDigits: 0 });
  }

  function fmtPct(v) {
    return v === null || v === undefined ? "–" : (100 * Number(v)).toFixed(2) + "%";
  }

  function dateCell(row) {
    // the three latest-data dates, each marked when stale (older than 6 months at as_of)
    const parts = [
      ["statement", row.statement_published, row.statement_stale],
      ["signal", row.signal_month, row.signal_stale],
      ["loan status", row.loan_status_month, row.loan_status_stale],
    ];
    const span = el("span");
    parts.forEach(([label, value, stale], i) => {
      const s = el("span", label + " " + (value || "none"), stale ? "stale" : value ? "" : "missing");
      if (stale) s.title = "older than 6 months at as_of";
      span.appendChild(s);
      if (i < parts.length - 1) span.appendChild(document.createTextNode(" · "));
    });
    return span;
  }

  function addFact(dl, term, value, cls) {
    dl.appendChild(el("dt", term));
    const dd = el("dd", value, cls);
    dl.appendChild(dd);
    return dd;
  }

  async function search(ev) {
    ev.preventDefault();
    showError(null);
    const q = $("q").value.trim();
    if (!q) return;
    try {
      const body = await api("/ui/api/firms?q=" + encodeURIComponent(q));
      const ul = $("results");
      clear(ul);
      if (body.as_of) $("as-of").textContent = "as of " + body.as_of;
      if (!body.firms.length) ul.appendChild(el("li", "No firm found."));
      body.firms.forEach((f) => {
        const li = el("li");
        const b = el("button", f.name || f.uscc, "firm-link");
        b.type = "button";
        b.dataset.uscc = f.uscc;
        b.addEventListener("click", () => openFirm(f.uscc));
        li.appendChild(b);
        li.appendChild(el("span", " " + f.uscc + " ", "uscc"));
        li.appendChild(dateCell(f));
        ul.appendChild(li);
      });
    } catch (err) {
      showError(err);
    }
  }

  async function openFirm(uscc) {
    showError(null);
    state.firm = uscc;
    $("firm").hidden = false;
    $("csv-link").href = "/ui/api/firms/" + encodeURIComponent(uscc) + "/exposure.csv";
    // the card and the drawing together, before the rest: a hub's whole chain and group take
    // longer and must not hold either up
    const drawn = loadGraph();
    try {
      renderCard(await api("/ui/api/firms/" + encodeURIComponent(uscc)));
    } catch (err) {
      showError(err);
      await drawn;
      return;
    }
    await drawn;
    await Promise.all([loadExposure(), loadGroup()]);
  }

  function renderCard(card) {
    const f = card.firm;
    $("as-of").textContent = "as of " + card.as_of;
    $("firm-name").textContent = f.name || f.uscc;
    $("firm-uscc").textContent = f.uscc + " · " + (f.industry || "") + " · " + (f.region || "");
    const risk = $("firm-risk");
    clear(risk);
    if (card.risk) {
      addFact(risk, "PD (12 months)", fmtPct(card.risk.pd));
      addFact(risk, "tier", card.risk.tier);
      addFact(risk, "suggested class", card.risk.suggested_class);
      addFact(risk, "risk run", card.risk.run_id + " (as of " + card.risk.run_as_of + ")");
    } else {
      addFact(risk, "PD", "not scored (no current risk run)");
    }
    if (card.defaulted) addFact(risk, "in default since", card.defaulted, "stale");
    const reasons = $("firm-reasons");
    clear(reasons);
    ((card.risk && card.risk.reasons) || []).forEach((r) => reasons.appendChild(el("li", r)));
    if (!reasons.firstChild) reasons.appendChild(el("li", "none"));
    const ch = $("firm-changes");
    clear(ch);
    const c = card.changes;
    if (!c) ch.appendChild(el("li", "no previous risk run"));
    else if (c.note) ch.appendChild(el("li", c.note + " (previous run " + c.previous_run_id + ")"));
    else {
      ch.appendChild(el("li", "PD " + fmtPct(c.pd_before) + " → " + fmtPct(c.pd_now)));
      ch.appendChild(el("li", "tier " + c.tier_before + " → " + c.tier_now));
      ch.appendChild(el("li", "suggested class " + c.class_before + " → " + c.class_now));
      c.reasons_added.forEach((r) => ch.appendChild(el("li", "new reason: " + r)));
      c.reasons_dropped.forEach((r) => ch.appendChild(el("li", "reason gone: " + r)));
    }
    const dates = $("firm-dates");
    clear(dates);
    addFact(dates, "as of", card.as_of);
    const mark = (value, stale) => (stale ? "stale" : value ? "" : "missing");
    addFact(dates, "latest statement", f.statement_published || "none", mark(f.statement_published, f.statement_stale));
    addFact(dates, "latest signal", f.signal_month || "none", mark(f.signal_month, f.signal_stale));
    addFact(dates, "latest loan status", f.loan_status_month || "none", mark(f.loan_status_month, f.loan_status_stale));
    addFact(dates, "stale if before", card.stale_before);
    // the card sits above the drawing and may land after it, moving it down the page: Cytoscape
    // maps the pointer with the container's position as it last measured it, so it must measure
    // again, else pointing at a party finds the one drawn where the pointer was before the move
    if (state.cy) state.cy.resize();
  }

  async function loadExposure() {
    const tbody = $("exposure").querySelector("tbody");
    clear(tbody);
    try {
      const e = await api("/ui/api/firms/" + encodeURIComponent(state.firm) + "/exposure?hops=3&page_size=200");
      const t = e.totals.chain;
      $("exposure-summary").textContent =
        "Whole chain (3 hops, as of " + e.as_of + "): " + t.firms + " firms, " + t.persons +
        " persons, bank exposure " + fmtMoney(t.exposure) + ", " + t.special_mention_or_worse +
        " special mention or worse.";
      ["upstream", "downstream", "guarantors", "guaranteed"].forEach((section) => {
        e[section].forEach((r) => {
          const tr = el("tr");
          tr.appendChild(el("td", section));
          tr.appendChild(el("td", r.distance));
          tr.appendChild(el("td", r.uscc || r.person_id, "uscc"));
          tr.appendChild(el("td", r.name || ""));
          tr.appendChild(el("td", fmtMoney(r.trade_value !== undefined ? r.trade_value : r.amount)));
          tr.appendChild(el("td", r.share === undefined ? "" : fmtPct(r.share)));
          tr.appendChild(el("td", fmtMoney(r.exposure)));
          tr.appendChild(el("td", r.worst_class || ""));
          tr.appendChild(el("td", r.risk_tier === null || r.risk_tier === undefined ? "" : r.risk_tier));
          const td = el("td");
          if (r.party === "firm") td.appendChild(dateCell(r));
          tr.appendChild(td);
          tbody.appendChild(tr);
        });
      });
    } catch (err) {
      showError(err);
    }
  }

  async function loadGroup() {
    const dl = $("group-facts");
    const ul = $("group-members");
    clear(dl);
    clear(ul);
    try {
      const g = await api("/ui/api/firms/" + encodeURIComponent(state.firm) + "/group");
      if (!g.group) {
        addFact(dl, "group", "no active guarantee (as of " + g.as_of + ")");
        return;
      }
      const x = g.group;
      addFact(dl, "type", x.type);
      addFact(dl, "members", x.n_members + " (" + x.persons.length + " persons)");
      addFact(dl, "guaranteed amount", fmtMoney(x.guaranteed_amount));
      addFact(dl, "against members' equity", x.guarantee_to_equity === null ? "–" : Number(x.guarantee_to_equity).toFixed(2));
      addFact(dl, "loan balance", fmtMoney(x.loan_balance));
      addFact(dl, "special mention or worse", fmtPct(x.share_special_mention_or_worse));
      addFact(dl, "bank exposure", fmtMoney(x.bank_exposure));
      addFact(dl, "grade", x.grade);
      addFact(dl, "circles", g.circles.map((c) => c.type + " of " + c.n_members).join(", ") || "none");
      g.members.forEach((m) => {
        const li = el("li");
        li.appendChild(el("span", m.name || m.uscc));
        li.appendChild(el("span", " " + m.uscc + " ", "uscc"));
        li.appendChild(dateCell(m));
        ul.appendChild(li);
      });
    } catch (err) {
      showError(err);
    }
  }

  const TIER_COLOURS = { 1: "#3a9d5d", 2: "#3a9d5d", 3: "#e0a526", 4: "#e0a526", 5: "#d0502a", 6: "#d0502a" };
  const PERSON_COLOUR = "#7d5ba6";
  // Drawings above this many nodes trade looks for speed while the view moves: links hidden and a
  // texture of the last frame shown while they are panned or zoomed.
  const BIG_DRAWING = 200;

  function rings(g) {
    // rings by distance from the focal firm, each wide enough for its nodes; cheaper than a
    // general layout on a 500-node hub neighbourhood, and the distances read at a glance
    const byDistance = new Map();
    g.nodes.forEach((n) => {
      if (!byDistance.has(n.distance)) byDistance.set(n.distance, []);
      byDistance.get(n.distance).push(n.id);
    });
    const pos = new Map();
    let radius = 0;
    [...byDistance.keys()].sort((a, b) => a - b).forEach((d) => {
      const ids = byDistance.get(d);
      if (d === 0) {
        ids.forEach((id) => pos.set(id, { x: 0, y: 0 }));
        return;
      }
      radius = Math.max(radius + 90, (ids.length * 22) / (2 * Math.PI));
      ids.forEach((id, i) => {
        const a = (2 * Math.PI * i) / ids.length;
        pos.set(id, { x: radius * Math.cos(a), y: radius * Math.sin(a) });
      });
    });
    return pos;
  }

  function elements(g, pos) {
    const out = [];
    g.nodes.forEach((n) => {
      let colour = n.kind === "person" ? PERSON_COLOUR : TIER_COLOURS[n.tier] || "#9aa5b1";
      if (n.defaulted) colour = "#7a0c0c";
      out.push({ group: "nodes", position: pos.get(n.id), data: {
        id: n.id, label: n.label, kind: n.kind, colour: colour, stale: n.stale ? 1 : 0,
        focal: n.id === g.focal ? 1 : 0, onpath: n.on_default_path ? 1 : 0, distance: n.distance } });
    });
    g.edges.forEach((e, i) => {
      out.push({ group: "edges", data: {
        id: "e" + i, source: e.source, target: e.target, type: e.type, onpath: e.default_path ? 1 : 0 } });
    });
    return out;
  }

  const STYLE = [
    { selector: "node", style: { "background-color": "data(colour)", label: "data(label)", "font-size": 9,
      width: 16, height: 16, "text-valign": "bottom", "text-margin-y": 2, color: "#1d2733",
      // labels too small to read are not drawn (a 500-node drawing stays fast); zoom in to read them
      "min-zoomed-font-size": 7 } },
    { selector: "node[kind = 'person']", style: { shape: "diamond", width: 18, height: 18, color: PERSON_COLOUR,
      "font-style": "italic" } },
    { selector: "node[stale = 1]", style: { "border-width": 2, "border-style": "dotted", "border-color": "#a12622" } },
    { selector: "node[kind = 'more']", style: { "background-color": "#ffffff", "border-width": 1,
      "border-style": "dashed", "border-color": "#5a6673", shape: "round-rectangle", width: 40 } },
    { selector: "node[focal = 1]", style: { width: 26, height: 26, "border-width": 3, "border-color": "#1f3a5f" } },
    { selector: "node[onpath = 1]", style: { "border-width": 2, "border-color": "#7a0c0c" } },
    { selector: "edge", style: { width: 1.2, "curve-style": "bezier", "target-arrow-shape": "triangle",
      "arrow-scale": 0.7, "line-color": "#8fa0b3", "target-arrow-color": "#8fa0b3" } },
    { selector: "edge[type = 'GUARANTEES']", style: { "line-style": "dashed", "line-color": "#6b5bb5",
      "target-arrow-color": "#6b5bb5" } },
    { selector: "edge[type = 'MORE']", style: { "line-style": "dotted", "target-arrow-shape": "none" } },
    { selector: "edge[onpath = 1]", style: { "line-color": "#c0141b", "target-arrow-color": "#c0141b", width: 2.5 } },
  ];

  function drawing() {
    // one Cytoscape instance for the page, made (style parsed, canvases set up) on the first call:
    // loadGraph calls it while its request is in flight, so that cost overlaps the wait
    if (state.cy) return state.cy;
    const cy = window.cytoscape({ container: $("cy"), style: STYLE, wheelSensitivity: 0.3, maxZoom: 4 });
    cy.on("mouseover tap", "node", (ev) => showNode(state.shown.get(ev.target.id()), state.graph));
    cy.on("tap", "node", (ev) => {
      const n = ev.target;
      if (n.data("kind") === "firm" && n.id() !== state.firm) openFirm(n.id());
    });
    state.cy = cy;
    return cy;
  }

  function frame(cy, pos) {
    // the view that fits the rings, from their positions (no bounding boxes of labels and edges)
    let ext = 0;
    pos.forEach((p) => { ext = Math.max(ext, Math.abs(p.x), Math.abs(p.y)); });
    const w = cy.width(), h = cy.height(), pad = 20, margin = 30;  // margin: a node and its label
    const zoom = Math.min(1.5, (w - 2 * pad) / (2 * ext + 2 * margin), (h - 2 * pad) / (2 * ext + 2 * margin));
    cy.viewport({ zoom: zoom, pan: { x: w / 2, y: h / 2 } });
  }

  async function loadGraph() {
    const rels = [];
    if ($("rel-supply").checked) rels.push("supply");
    if ($("rel-guarantee").checked) rels.push("guarantee");
    const box = $("cy");
    const status = $("graph-status");
    const seq = (state.seq = (state.seq || 0) + 1);  // a later call (slider, filter) wins
    if (!rels.length) {
      if (state.cy) state.cy.elements().remove();
      status.textContent = "choose a relation";
      return;
    }
    const hops = $("hops").value;
    const cap = new URLSearchParams(window.location.search).get("cap") || "25";
    const t0 = performance.now();
    status.textContent = "loading…";
    box.dataset.drawn = "0";
    const request = api("/ui/api/firms/" + encodeURIComponent(state.firm) + "/graph?hops=" + hops +
      "&relations=" + rels.join(",") + "&cap=" + encodeURIComponent(cap));
    const cy = drawing();
    let g;
    try {
      g = await request;
    } catch (err) {
      showError(err);
      return;
    }
    if (seq !== state.seq) return;
    const t1 = performance.now();
    const big = g.nodes.length > BIG_DRAWING;
    // a big drawing hides its links and shows a texture of the last frame while it is panned or
    // zoomed (the renderer reads these two options at each frame)
    const renderer = cy.renderer();
    renderer.hideEdgesOnViewport = big;
    renderer.textureOnViewport = big;
    state.graph = g;
    state.shown = new Map(g.nodes.map((n) => [n.id, n]));
    // positions computed here in one pass (rings by distance): no layout runs, nothing animates,
    // and all elements go in with one add (one style pass, one redraw)
    const pos = rings(g);
    cy.batch(() => {
      cy.elements().remove();
      cy.add(elements(g, pos));
    });
    frame(cy, pos);
    const tLayout = performance.now();
    // the first frame after the elements are in is the first drawing; the caller's next requests
    // (a hub's whole chain, its group) wait for it, so the server's work on them does not compete
    // with the browser drawing it on a small machine
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    if (seq !== state.seq) return;
    const t2 = performance.now();
    const firms = g.nodes.filter((n) => n.kind !== "more").length;
    box.dataset.nodes = String(cy.nodes().length);
    box.dataset.fetchMs = String(Math.round(t1 - t0));
    box.dataset.layoutMs = String(Math.round(tLayout - t1));
    box.dataset.drawMs = String(Math.round(t2 - t0));
    box.dataset.drawn = "1";
    status.textContent = firms + " parties, " + g.edges.length + " links" +
      (g.truncated ? ", " + g.truncated + " more not drawn" : "") + " (as of " + g.as_of + ")";
  }

  function showNode(n, g) {
    // the party under the pointer, as text: what it is and, for a firm, its data dates and stale flags
    const p = $("node-info");
    clear(p);
    if (!n) return;
    if (n.kind === "more") {
      p.appendChild(el("span", n.label + " at distance " + n.distance + " (raise the cap to draw them)"));
      return;
    }
    const what = n.kind === "person" ? "person (guarantor)" : "firm";
    p.appendChild(el("strong", n.label));
    p.appendChild(el("span", " " + n.id + " ", "uscc"));
    p.appendChild(el("span", what + ", distance " + n.distance +
      (n.tier === null || n.tier === undefined ? "" : ", tier " + n.tier) +
      (n.defaulted ? ", in default since " + n.defaulted : "") + (n.kind === "firm" ? " · " : "")));
    if (n.kind === "firm") {
      p.appendChild(dateCell({
        statement_published: n.statement_published, statement_stale: n.statement_stale,
        signal_month: n.signal_month, signal_stale: n.signal_stale,
        loan_status_month: n.loan_status_month, loan_status_stale: n.loan_status_stale,
      }));
      p.appendChild(el("span", " (as of " + g.as_of + ")"));
    }
  }

  async function init() {
    try {
      const me = await api("/ui/api/me");
      state.csrf = me.csrf;
      $("logout-csrf").value = me.csrf;
      $("user").textContent = me.user;
    } catch (err) {
      showError(err);
      return;
    }
    $("search-form").addEventListener("submit", search);
    $("hops").addEventListener("input", () => { $("hops-value").textContent = $("hops").value; });
    $("hops").addEventListener("change", () => { if (state.firm) loadGraph(); });
    $("rel-supply").addEventListener("change", () => { if (state.firm) loadGraph(); });
    $("rel-guarantee").addEventListener("change", () => { if (state.firm) loadGraph(); });
    $("graph-controls").addEventListener("submit", (ev) => ev.preventDefault());
    // a link may name the firm and the drawing's hops: /?firm=USCC&hops=2 (and cap=N for hubs)
    const params = new URLSearchParams(window.location.search);
    const hops = params.get("hops");
    if (hops && /^[1-3]$/.test(hops)) {
      $("hops").value = hops;
      $("hops-value").textContent = hops;
    }
    const start = params.get("firm");
    if (start) openFirm(start);
  }

  document.addEventListener("DOMContentLoaded", init);
})();
