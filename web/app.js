// piprov station page. Live over Server-Sent Events (/api/events): the first message is a
// snapshot of every board, then one message per station event carrying the board as it now
// is. Every string a board or a file provides is put in the page as text (textContent,
// attribute values through the DOM API), never parsed as HTML: no HTML-string API is used here.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const tiles = new Map();      // port -> tile parts
  const boards = new Map();     // port -> board object
  const latencies = [];         // event emission -> DOM updated, ms (last LATENCY_KEEP)
  const LATENCY_KEEP = 5000;
  const DONE = new Set(['verified', 'recorded']);
  const BAD = new Set(['failed', 'abandoned']);
  const BUSY = new Set(['arrived', 'flashing', 'verifying']);
  const FACTS = [['serial', 'Serial'], ['mac', 'MAC'], ['ip', 'IP'], ['hostname', 'Host']];
  const DETAIL_FIELDS = [['serial', 'Serial'], ['port', 'Port'], ['state', 'State'],
    ['reason', 'Reason'], ['board', 'Board'], ['chip', 'Chip'], ['stage', 'Stage'],
    ['bytes', 'Bytes'], ['total', 'Total'], ['mac', 'MAC'], ['ip', 'IP'],
    ['hostname', 'Host name']];
  let selected = null;          // serial shown in the detail panel
  let pendingAction = null;     // waits for a token
  let inventoryRows = [];
  let inventoryTimer = null;
  const counts = { events: 0, snapshots: 0, opens: 0 };
  // port -> the states its tile went through from events on this page load, in order
  // (snapshots not included; a repeated state once): what a test or a person can ask "did
  // the page see that board at work?". At most STATE_LOG_KEEP states per port.
  const stateLog = new Map();
  const STATE_LOG_KEEP = 32;

  const str = (v) => (v === undefined || v === null ? '' : String(v));

  function el(tag, cls, content) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content !== undefined) e.textContent = str(content);
    return e;
  }

  function now() {
    return performance.timeOrigin + performance.now();
  }

  // "100-1.10" sorts after "100-1.9": compare the numbers of a port path one by one.
  function comparePorts(a, b) {
    const pa = str(a).split(/[-.]/), pb = str(b).split(/[-.]/);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
      const x = pa[i], y = pb[i];
      if (x === undefined) return -1;
      if (y === undefined) return 1;
      const nx = Number(x), ny = Number(y);
      if (!Number.isNaN(nx) && !Number.isNaN(ny) && nx !== ny) return nx - ny;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  }

  function kib(n) {
    return (Number(n) / 1024).toLocaleString(undefined, { maximumFractionDigits: 0 });
  }

  // ---- tiles ----

  function makeTile(port) {
    const root = el('article', 'tile');
    root.tabIndex = 0;
    root.dataset.port = port;
    const head = el('div', 'tile-head');
    const state = el('span', 'state');
    head.append(el('span', 'port', port), state);
    const model = el('div', 'model');
    const stage = el('div', 'stage');
    const bar = el('div', 'progress');
    const fill = el('div');
    bar.append(fill);
    const reason = el('div', 'reason');
    const facts = el('dl', 'facts');
    const dd = {};
    for (const [key, label] of FACTS) {
      dd[key] = el('dd');
      dd[key].dataset.field = key;
      facts.append(el('dt', null, label), dd[key]);
    }
    root.append(head, model, stage, bar, reason, facts);
    const open = () => openDetail(root.dataset.serial);
    root.addEventListener('click', open);
    root.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
    return { root, state, model, stage, fill, reason, dd };
  }

  function stageText(b) {
    const parts = [];
    if (b.stage) parts.push(str(b.stage));
    if (Number(b.total) > 0) parts.push(`${kib(b.bytes)} / ${kib(b.total)} KiB`);
    else if (Number(b.bytes) > 0) parts.push(`${kib(b.bytes)} KiB`);
    return parts.join(' · ') || '\u00a0';
  }

  function renderTile(t, b) {
    const state = str(b.state);
    t.root.dataset.state = state;
    t.root.dataset.serial = str(b.serial);
    // Recorded means verified and in the inventory: the operator looks for "verified".
    t.state.textContent = state === 'recorded' ? 'verified · recorded' : state || '…';
    const chip = b.chip ? `BCM${str(b.chip)}` : '';
    t.model.textContent = [str(b.board), chip].filter(Boolean).join(' · ') || 'Raspberry Pi';
    t.stage.textContent = stageText(b);
    let pct = 0;
    if (Number(b.total) > 0) pct = Math.min(100, (100 * Number(b.bytes)) / Number(b.total));
    if (DONE.has(state)) pct = 100;
    t.fill.style.width = `${pct.toFixed(1)}%`;
    t.reason.textContent = str(b.reason);
    for (const [key] of FACTS) {
      t.dd[key].textContent = str(b[key]) || '—';
      t.dd[key].title = str(b[key]);
    }
  }

  function placeTile(port, root) {
    const container = $('tiles');
    for (const other of container.children) {
      if (comparePorts(port, other.dataset.port) < 0) {
        container.insertBefore(root, other);
        return;
      }
    }
    container.append(root);
  }

  function upsertBoard(b) {
    const port = str(b.port) || str(b.serial);
    if (!port) return;
    let t = tiles.get(port);
    if (!t) {
      t = makeTile(port);
      tiles.set(port, t);
      placeTile(port, t.root);
    }
    boards.set(port, b);
    renderTile(t, b);
    if (selected !== null && str(b.serial) === selected) renderFields(b);
  }

  function removeBoard(port) {
    const t = tiles.get(port);
    if (t) t.root.remove();
    tiles.delete(port);
    boards.delete(port);
  }

  function renderSummary() {
    let done = 0, bad = 0, busy = 0;
    for (const b of boards.values()) {
      if (DONE.has(b.state)) done++;
      else if (BAD.has(b.state)) bad++;
      else if (BUSY.has(b.state)) busy++;
    }
    $('n-verified').textContent = done;
    $('n-failed').textContent = bad;
    $('n-busy').textContent = busy;
    $('n-total').textContent = boards.size;
    $('empty').hidden = boards.size > 0;
    document.title = bad ? `(${bad} failed) piprov station` : 'piprov station';
  }

  // ---- events ----

  function applySnapshot(list) {
    if (!Array.isArray(list)) return;
    const seen = new Set();
    for (const b of list) {
      if (b && typeof b === 'object') {
        upsertBoard(b);
        seen.add(str(b.port) || str(b.serial));
      }
    }
    for (const port of [...tiles.keys()]) if (!seen.has(port)) removeBoard(port);
    renderSummary();
  }

  function recordLatency(emittedMs) {
    const ms = now() - emittedMs;
    if (!Number.isFinite(ms)) return;
    latencies.push(ms);
    if (latencies.length > LATENCY_KEEP) latencies.shift();
  }

  function renderLatency() {
    if (!latencies.length) return;
    const sorted = [...latencies].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    $('latency').textContent = `event → page: median ${median.toFixed(1)} ms over ${sorted.length} events`;
  }

  function applyEvent(ev) {
    if (!ev || typeof ev !== 'object') return;
    const b = ev.board && typeof ev.board === 'object' ? ev.board : null;
    if (b) {
      const key = str(b.port) || str(b.serial);
      const seen = stateLog.get(key) || [];
      if (seen[seen.length - 1] !== str(b.state) && seen.length < STATE_LOG_KEEP) seen.push(str(b.state));
      stateLog.set(key, seen);
      if (ev.event === 'forgotten' || ev.event === 'forget') removeBoard(key);
      else upsertBoard(b);
      renderSummary();
      if (selected !== null && str(b.serial) === selected) {
        if (ev.event === 'metadata' && ev.key !== undefined)
          appendLog(`metadata: ${str(ev.key)}=${str(ev.value)}`);
        else if (ev.detail) appendLog(`${str(ev.event)}: ${str(ev.detail)}`);
      }
    }
    if (typeof ev.time_ms === 'number') recordLatency(ev.time_ms);
    if (ev.event === 'recorded' || ev.event === 'verified') scheduleInventory();
  }

  function connect() {
    const link = $('link');
    const source = new EventSource('/api/events');
    source.addEventListener('open', () => {
      counts.opens++;
      link.dataset.state = 'live';
      link.textContent = 'live';
    });
    source.addEventListener('error', () => {
      // EventSource reconnects by itself; the next snapshot brings the page up to date.
      link.dataset.state = 'lost';
      link.textContent = 'reconnecting…';
    });
    source.addEventListener('snapshot', (m) => {
      counts.snapshots++;
      try { applySnapshot(JSON.parse(m.data)); } catch (e) { console.warn('snapshot', e); }
    });
    source.addEventListener('message', (m) => {
      counts.events++;
      try { applyEvent(JSON.parse(m.data)); } catch (e) { console.warn('event', e); }
    });
    setInterval(renderLatency, 1000);
  }

  // ---- the detail panel ----

  function fill(dl, pairs) {
    const nodes = [];
    for (const [label, value] of pairs) nodes.push(el('dt', null, label), el('dd', null, value));
    dl.replaceChildren(...nodes);
  }

  function renderFields(b) {
    const pairs = DETAIL_FIELDS.filter(([key]) => str(b[key]) !== '')
      .map(([key, label]) => [label, b[key]]);
    const known = new Set(DETAIL_FIELDS.map(([k]) => k).concat(['log', 'metadata']));
    for (const [key, value] of Object.entries(b)) {
      if (!known.has(key) && value !== null && typeof value !== 'object') pairs.push([key, value]);
    }
    fill($('detail-fields'), pairs);
    $('detail-title').textContent = str(b.serial) || str(b.port);
  }

  function appendLog(line) {
    const log = $('detail-log');
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(document.createTextNode(`${line}\n`));
    if (atEnd) log.scrollTop = log.scrollHeight;
  }

  async function openDetail(serial) {
    if (!serial) return;
    selected = serial;
    $('detail').hidden = false;
    $('detail-title').textContent = serial;
    $('action-result').textContent = '';
    $('detail-log').textContent = 'loading…';
    try {
      const r = await fetch(`/api/boards/${encodeURIComponent(serial)}`);
      const b = await r.json();
      if (selected !== serial) return;
      if (!r.ok) throw new Error(str(b.error) || r.statusText);
      renderFields(b);
      const meta = b.metadata && typeof b.metadata === 'object' ? Object.entries(b.metadata) : [];
      fill($('detail-meta'), meta.map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : v]));
      $('detail-meta-section').hidden = meta.length === 0;
      const lines = Array.isArray(b.log) ? b.log.map(str) : [];
      $('detail-log').textContent = lines.length ? `${lines.join('\n')}\n` : '';
    } catch (e) {
      $('detail-log').textContent = `could not load the board: ${e.message}`;
    }
  }

  function closeDetail() {
    selected = null;
    $('detail').hidden = true;
  }

  async function runAction(action) {
    if (!selected) return;
    const token = sessionStorage.getItem('piprov-token');
    if (!token) {
      pendingAction = action;
      $('token-form').hidden = false;
      $('token').focus();
      return;
    }
    const result = $('action-result');
    result.textContent = `${action}…`;
    try {
      const r = await fetch(`/api/boards/${encodeURIComponent(selected)}/${action}`, {
        method: 'POST', headers: { Authorization: `Bearer ${token}` },
      });
      const body = await r.json().catch(() => ({}));
      if (r.status === 401 || r.status === 403) {
        sessionStorage.removeItem('piprov-token');
        pendingAction = action;
        $('token-form').hidden = false;
      }
      result.textContent = r.ok ? `${action}: accepted` : `${action}: ${str(body.error) || r.statusText}`;
    } catch (e) {
      result.textContent = `${action}: ${e.message}`;
    }
  }

  // ---- inventory and exports ----

  const INVENTORY_COLUMNS = ['serial', 'hostname', 'ip', 'mac', 'model', 'board_revision',
    'eeprom_hash', 'flashed_at'];

  function renderInventory() {
    const q = $('inv-search').value.trim().toLowerCase();
    const rows = [];
    let shown = 0;
    for (const row of inventoryRows) {
      if (q && !row.search.includes(q)) continue;
      shown++;
      const tr = el('tr');
      for (const key of INVENTORY_COLUMNS) {
        let v = str(row.record[key]);
        const td = el('td');
        if (key === 'eeprom_hash' && v.length > 12) {
          td.title = v;
          v = `${v.slice(0, 12)}…`;
        }
        td.textContent = v;
        tr.append(td);
      }
      rows.push(tr);
    }
    $('inventory').tBodies[0].replaceChildren(...rows);
    $('inv-count').textContent = q ? `${shown} of ${inventoryRows.length} boards`
      : `${inventoryRows.length} boards`;
  }

  async function loadInventory() {
    const error = $('inv-error');
    try {
      const r = await fetch('/api/inventory');
      const body = await r.json();
      if (!r.ok) throw new Error(str(body.error) || r.statusText);
      const list = Array.isArray(body) ? body : [];
      inventoryRows = list.filter((rec) => rec && typeof rec === 'object').map((rec) => ({
        record: rec,
        search: Object.values(rec).filter((v) => typeof v !== 'object').map(str).join(' ').toLowerCase(),
      }));
      error.hidden = true;
      renderInventory();
    } catch (e) {
      error.textContent = `inventory: ${e.message}`;
      error.hidden = false;
    }
  }

  function scheduleInventory() {
    clearTimeout(inventoryTimer);
    inventoryTimer = setTimeout(loadInventory, 500);
  }

  async function loadExports() {
    try {
      const r = await fetch('/api/exports');
      const names = await r.json();
      $('exports').replaceChildren(...(Array.isArray(names) ? names : []).map((name) => {
        const li = el('li');
        const a = el('a', null, str(name));
        a.href = `/api/exports/${encodeURIComponent(str(name))}`;
        a.download = '';
        li.append(a);
        return li;
      }));
    } catch (e) {
      $('exports').replaceChildren(el('li', 'error', `exports: ${e.message}`));
    }
  }

  // ---- tabs ----

  function showTab(name) {
    for (const b of document.querySelectorAll('.tabs button'))
      b.setAttribute('aria-selected', String(b.dataset.tab === name));
    for (const s of document.querySelectorAll('.tab'))
      s.dataset.active = String(s.id === `tab-${name}`);
    if (name === 'inventory') loadInventory();
    if (name === 'exports') loadExports();
  }

  function start() {
    for (const b of document.querySelectorAll('.tabs button')) {
      b.addEventListener('click', () => {
        history.replaceState(null, '', `#${b.dataset.tab}`);
        showTab(b.dataset.tab);
      });
    }
    $('inv-search').addEventListener('input', renderInventory);
    $('detail-close').addEventListener('click', closeDetail);
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeDetail(); });
    for (const b of document.querySelectorAll('.actions button'))
      b.addEventListener('click', () => runAction(b.dataset.action));
    $('token-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const token = $('token').value.trim();
      if (!token) return;
      sessionStorage.setItem('piprov-token', token);
      $('token').value = '';
      $('token-form').hidden = true;
      if (pendingAction) runAction(pendingAction);
      pendingAction = null;
    });
    const tab = location.hash.slice(1);
    showTab(['boards', 'inventory', 'exports'].includes(tab) ? tab : 'boards');
    loadInventory();
    connect();
  }

  // For tests and the bench (tests/browser): what the page shows, and its event latency.
  window.pvStation = {
    latencies: () => latencies.slice(),
    counts: () => ({ ...counts }),
    stateLog: () => Object.fromEntries([...stateLog].map(([port, states]) => [port, states.slice()])),
    tiles: () => [...document.querySelectorAll('#tiles .tile')].map((t) => ({
      port: t.dataset.port,
      serial: t.dataset.serial,
      state: t.dataset.state,
      reason: t.querySelector('.reason').textContent,
      text: t.textContent,
    })),
  };

  start();
})();
