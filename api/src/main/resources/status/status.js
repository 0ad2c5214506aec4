// The status page of a balance node: polls /api/v1/status, keeps a few minutes of history in the
// page, and draws it as small SVG line charts. Plain JavaScript, no libraries.
'use strict';
(function () {
  const POLL_MS = 2000;
  const POINTS_MAX = 90;
  const COLORS = ['#2f6fde', '#c23b3b', '#e0a100', '#2e9e5b', '#8a4fd1', '#00a3a3', '#d9480f'];
  const QUANTILES = [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]];
  const charts = { throughput: new Map(), latency: new Map(), rejections: new Map(), lag: new Map() };
  let previous = null;

  const $ = (id) => document.getElementById(id);

  // Signed reads for a node that requires signatures: a read key entered on the page, kept in this
  // tab's session storage only. The signature is hex HMAC-SHA256 of
  // "timestamp \n METHOD \n path_with_query \n body" (DESIGN §5); WebCrypto needs localhost or HTTPS.
  async function signature(secret, timestamp, method, pathWithQuery, body) {
    const text = new TextEncoder();
    const key = await crypto.subtle.importKey('raw', text.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false,
      ['sign']);
    const mac = await crypto.subtle.sign('HMAC', key, text.encode(timestamp + '\n' + method + '\n' + pathWithQuery
      + '\n' + body));
    return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('');
  }

  async function get(pathWithQuery) {
    const keyId = sessionStorage.getItem('balance.keyId');
    const secret = sessionStorage.getItem('balance.keySecret');
    const headers = {};
    if (keyId && secret && window.crypto && crypto.subtle) {
      const timestamp = String(Date.now());
      headers['X-Key-Id'] = keyId;
      headers['X-Timestamp'] = timestamp;
      headers['X-Signature'] = await signature(secret, timestamp, 'GET', pathWithQuery, '');
    }
    return fetch(pathWithQuery, { cache: 'no-store', headers });
  }
  window.balanceStatus = { signature };

  function push(chart, name, t, v) {
    if (!Number.isFinite(v)) return;
    if (!charts[chart].has(name)) charts[chart].set(name, []);
    const points = charts[chart].get(name);
    points.push([t, v]);
    if (points.length > POINTS_MAX) points.shift();
  }

  // The q-quantile of the observations between two polls, from cumulative bucket counts
  // ([upper bound ms, count]), interpolating inside the bucket as Prometheus does.
  function quantile(buckets, q) {
    const total = buckets.length ? buckets[buckets.length - 1][1] : 0;
    if (total <= 0) return NaN;
    const rank = q * total;
    let lowerBound = 0, lowerCount = 0;
    for (const [bound, count] of buckets) {
      if (count >= rank) {
        const inBucket = count - lowerCount;
        return inBucket <= 0 ? bound : lowerBound + (bound - lowerBound) * (rank - lowerCount) / inBucket;
      }
      lowerBound = bound;
      lowerCount = count;
    }
    return lowerBound;
  }

  function update(s) {
    $('node').textContent = s.node;
    $('state').textContent = s.ready ? 'ready' : s.state;
    $('state').className = 'badge ' + (s.ready ? 'ok' : 'bad');
    $('updated').textContent = 'updated ' + new Date(s.time_ms).toLocaleTimeString();
    const t = s.time_ms;
    if (previous && t > previous.time_ms) {
      const seconds = (t - previous.time_ms) / 1000;
      const before = new Map(previous.verdicts.map((v) => [v.reason, v.count]));
      const byStatus = {};
      for (const v of s.verdicts) {
        const rate = (v.count - (before.get(v.reason) || 0)) / seconds;
        byStatus[v.status] = (byStatus[v.status] || 0) + rate;
        if (v.status !== 'APPLIED') push('rejections', v.reason, t, rate);
      }
      for (const [status, rate] of Object.entries(byStatus)) push('throughput', status, t, rate);
      push('throughput', 'HTTP requests', t, (s.http_requests - previous.http_requests) / seconds);
      const earlier = new Map(previous.verdict_latency.buckets.map(([bound, count]) => [bound, count]));
      const delta = s.verdict_latency.buckets.map(([bound, count]) => [bound, count - (earlier.get(bound) || 0)]);
      for (const [name, q] of QUANTILES) push('latency', name, t, quantile(delta, q));
    }
    push('lag', 'input', t, s.input_lag_records);
    for (const [sink, lag] of Object.entries(s.sink_lag_records)) {
      if (lag !== null) push('lag', sink + ' sink', t, lag);
    }
    draw($('throughput-chart'), charts.throughput, '/s');
    draw($('latency-chart'), charts.latency, ' ms');
    draw($('rejections-chart'), charts.rejections, '/s');
    draw($('lag-chart'), charts.lag, '');
    rows($('reasons'), s.verdicts.filter((v) => v.status !== 'APPLIED').map((v) => [v.reason, v.count]));
    rows($('cluster'), s.cluster.map((n) => [n.node + (n.self ? ' (this node)' : ''), n.active.join(', ') || '–',
      n.standby.join(', ') || '–']));
    previous = s;
  }

  function rows(table, cells) {
    const body = table.querySelector('tbody');
    body.replaceChildren(...cells.map((row) => {
      const tr = document.createElement('tr');
      for (const cell of row) {
        const td = document.createElement('td');
        td.textContent = cell;
        tr.appendChild(td);
      }
      return tr;
    }));
  }

  function format(v) {
    if (v >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (v >= 1e3) return (v / 1e3).toFixed(1) + 'k';
    return v >= 10 ? v.toFixed(0) : v.toFixed(v >= 1 ? 1 : 2);
  }

  const SVG = 'http://www.w3.org/2000/svg';
  function el(name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A line chart of every series in the map, on one shared axis from zero to the largest value.
  function draw(svg, series, unit) {
    const width = 600, height = 180, left = 52, right = 8, top = 30, bottom = 16;
    const all = [...series.values()].flat();
    svg.replaceChildren();
    svg.appendChild(el('line', { class: 'axis', x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }));
    svg.appendChild(el('line', { class: 'axis', x1: left, y1: top, x2: left, y2: height - bottom }));
    // The longest series' length: how many refreshes the chart shows (tests read it).
    svg.dataset.points = String(Math.max(0, ...[...series.values()].map((points) => points.length)));
    if (all.length === 0) {
      svg.appendChild(el('text', { x: left + 8, y: height / 2 }, 'waiting for data'));
      return;
    }
    const tMin = Math.min(...all.map((p) => p[0])), tMax = Math.max(...all.map((p) => p[0]));
    const vMax = Math.max(...all.map((p) => p[1])) * 1.1 || 1;
    const x = (t) => left + (tMax === tMin ? 0 : (t - tMin) / (tMax - tMin)) * (width - left - right);
    const y = (v) => height - bottom - (v / vMax) * (height - top - bottom);
    svg.appendChild(el('text', { x: 4, y: top + 4 }, format(vMax) + unit));
    svg.appendChild(el('text', { x: 4, y: height - bottom }, '0'));
    svg.appendChild(el('text', { x: left, y: height - 2 }, Math.round((tMax - tMin) / 1000) + ' s shown'));
    let i = 0, legendX = left, legendY = 10;
    for (const [name, points] of series) {
      const color = COLORS[i++ % COLORS.length];
      const d = points.map((p, k) => (k ? 'L' : 'M') + x(p[0]).toFixed(1) + ' ' + y(p[1]).toFixed(1)).join(' ');
      svg.appendChild(el('path', { class: 'line', d: points.length > 1 ? d : d + ' h 2', stroke: color, 'data-series': name }));
      const text = name + ' ' + format(points[points.length - 1][1]);
      const labelWidth = 14 + 7 * text.length;
      if (legendX + labelWidth > width && legendX > left) {
        legendX = left;
        legendY += 12;
      }
      const label = el('text', { x: legendX, y: legendY, fill: color }, text);
      label.style.fill = color;
      svg.appendChild(label);
      legendX += labelWidth;
    }
  }

  async function poll() {
    try {
      const response = await get('/api/v1/status');
      if (response.ok) update(await response.json());
      else $('state').textContent = 'HTTP ' + response.status;
    } catch (e) {
      $('state').textContent = 'unreachable';
      $('state').className = 'badge bad';
    }
    setTimeout(poll, POLL_MS);
  }

  async function lookup(event) {
    if (event) event.preventDefault();
    const account = $('account').value.trim();
    const currency = $('currency').value.trim().toUpperCase();
    const out = $('lookup-result');
    if (!/^[0-9]+$/.test(account)) {
      out.textContent = 'The account id is a positive number.';
      return;
    }
    const path = '/api/v1/balance/' + account + (currency ? '/' + encodeURIComponent(currency) : '');
    try {
      const response = await get(path);
      const body = await response.json();
      if (!body.success) {
        out.textContent = (body.error || 'HTTP ' + response.status) + ': ' + (body.error_message || '');
        return;
      }
      const balances = body.balances || [body.balance];
      const table = document.createElement('table');
      table.id = 'balances';
      table.innerHTML = '<thead><tr><th>currency</th><th>available</th><th>frozen</th><th>version</th></tr></thead><tbody></tbody>';
      rows(table, balances.map((b) => [b.currency_code, b.available, b.frozen, b.version]));
      out.replaceChildren(table);
      out.className = '';
    } catch (e) {
      out.textContent = 'Lookup failed: ' + e;
    }
  }

  $('key').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem('balance.keyId', $('key-id').value.trim());
    sessionStorage.setItem('balance.keySecret', $('key-secret').value);
    $('key-secret').value = '';
    $('key-state').textContent = $('key-id').value.trim() ? 'reads signed as ' + $('key-id').value.trim() : 'reads unsigned';
  });
  $('key-id').value = sessionStorage.getItem('balance.keyId') || '';
  $('interval').textContent = POLL_MS / 1000;
  $('lookup').addEventListener('submit', lookup);
  const params = new URLSearchParams(location.search);
  if (params.get('account')) {
    $('account').value = params.get('account');
    $('currency').value = params.get('currency') || '';
    lookup();
  }
  poll();
})();
