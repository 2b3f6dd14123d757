// The dashboard's script: fetches each project's summary from this server and draws it with uPlot.
// Every name shown comes from clients, so text is only ever set with textContent, never as HTML.
'use strict';

(function () {
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const weeks = params.get('weeks') || '12';
  const only = params.get('project');
  const headers = token ? { authorization: 'Bearer ' + token } : {};
  const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  const TOP = 8;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children) node.append(child);
    return node;
  }

  async function getJson(path) {
    const response = await fetch(path, { headers });
    if (!response.ok) throw new Error(path + ': ' + response.status + ' ' + ((await response.json().catch(() => ({}))).error || ''));
    return response.json();
  }

  function format(n) {
    return n === null ? 'suppressed' : typeof n === 'number' && !Number.isInteger(n) ? (n * 100).toFixed(1) + '%' : String(n);
  }

  /** A chart of series over the weeks, with its numbers in a table beneath (what the chart shows, readable). */
  function chart(parent, id, title, summary, series, opts) {
    const box = el('section', { class: 'chart', 'data-chart': id });
    box.append(el('h3', {}, title));
    parent.append(box);
    if (series.length === 0) {
      box.append(el('p', { class: 'note' }, 'Nothing to show in these weeks.'));
      return;
    }
    const suppressed = series.reduce((n, s) => n + s.values.filter((v) => v === null).length, 0);
    const target = el('div', { class: 'plot' });
    box.append(target);
    const xs = summary.weekStarts.map((t) => t / 1000);
    const width = Math.max(320, Math.min(520, parent.clientWidth || 520));
    const plot = new uPlot(
      {
        width,
        height: 200,
        scales: { x: { time: true }, y: opts && opts.percent ? { range: [0, 1] } : {} },
        axes: [{}, opts && opts.percent ? { values: (u, ticks) => ticks.map((t) => (t * 100).toFixed(0) + '%') } : {}],
        series: [{ label: 'week' }].concat(series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2, points: { show: true } }))),
      },
      [xs].concat(series.map((s) => s.values)),
      target,
    );
    box.uplot = plot;
    const table = el('table', { 'data-numbers': id });
    table.append(el('tr', {}, el('th', {}, ''), ...summary.weeks.map((w) => el('th', {}, w))));
    for (const s of series) {
      table.append(el('tr', { 'data-key': s.label }, el('th', {}, s.label), ...s.values.map((v) => el('td', v === null ? { class: 'suppressed' } : {}, format(v)))));
    }
    const details = el('details', {}, el('summary', {}, 'numbers'), table);
    box.append(details);
    if (suppressed > 0) box.append(el('p', { class: 'note', 'data-suppressed': String(suppressed) }, suppressed + ' cell' + (suppressed === 1 ? '' : 's') + ' suppressed (fewer than ' + summary.minInstalls + ' installs).'));
  }

  /** Histograms as one table: a row per name, a column per bucket, summed over the weeks shown. */
  function histograms(parent, id, title, list) {
    if (list.length === 0) return;
    const bounds = [...new Set(list.flatMap((h) => h.keys.map((k) => k.key)))].sort((a, b) => (a === '+Inf' ? Infinity : Number(a)) - (b === '+Inf' ? Infinity : Number(b)));
    const table = el('table', { 'data-numbers': id });
    table.append(el('tr', {}, el('th', {}, ''), ...bounds.map((b) => el('th', {}, b === '+Inf' ? 'more' : '≤ ' + b))));
    for (const h of list) {
      const sums = new Map(h.keys.map((k) => [k.key, k.weeks.reduce((n, v) => n + (v || 0), 0)]));
      table.append(el('tr', { 'data-key': h.name }, el('th', {}, h.name), ...bounds.map((b) => el('td', {}, String(sums.get(b) || 0)))));
    }
    parent.append(el('section', { 'data-histograms': id }, el('h3', {}, title), table));
  }

  function keyed(list) {
    return list.slice(0, TOP).map((s) => ({ label: s.key, values: s.weeks }));
  }

  function renderProject(main, summary) {
    const section = el('section', { class: 'project', 'data-project': summary.project });
    section.append(el('h2', {}, summary.project));
    section.append(el('p', { class: 'note' }, summary.weeks[0] + ' to ' + summary.weeks[summary.weeks.length - 1] + '. ' + summary.suppressed.note + '.'));
    main.append(section);
    const grid = el('div', { class: 'grid' });
    section.append(grid);

    chart(grid, 'installs', 'Weekly active installs', summary, [{ label: 'installs', values: summary.installs }]);
    // Runs whose end a report carried (level usage and above; runs at basic), not reports received: see the README.
    chart(grid, 'runs', 'Program runs (ended)', summary, [{ label: 'runs', values: summary.runs }]);
    chart(grid, 'features', 'Most used features (calls)', summary, summary.features.slice(0, TOP).map((f) => ({ label: f.name, values: f.calls })));
    const failing = summary.features.filter((f) => f.totalErrors > 0).sort((a, b) => b.totalErrors - a.totalErrors).slice(0, TOP);
    chart(
      grid,
      'error-rates',
      'Error rate by feature',
      summary,
      failing.map((f) => ({ label: f.name, values: f.calls.map((c, i) => (c === null || f.errors[i] === null ? null : c === 0 ? 0 : f.errors[i] / c)) })),
      { percent: true },
    );
    chart(grid, 'versions', 'Versions in use (installs)', summary, keyed(summary.versions));
    chart(grid, 'runtimes', 'Runtimes (installs)', summary, keyed(summary.runtimes));
    chart(grid, 'platforms', 'Platforms (installs)', summary, keyed(summary.platforms));
    if (summary.exits && summary.exits.length > 0) chart(grid, 'exits', 'How runs ended', summary, keyed(summary.exits));
    for (const c of (summary.choices || []).slice(0, 4)) chart(grid, 'choice:' + c.name, 'Choice: ' + c.name, summary, keyed(c.keys));
    for (const d of (summary.dependencies || []).slice(0, 4)) chart(grid, 'dependency:' + d.name, 'Dependency: ' + d.name + ' (installs)', summary, keyed(d.keys));
    histograms(section, 'durations', 'Durations (calls by bucket, upper bound in ms)', summary.durations || []);
    histograms(section, 'numbers', 'Recorded numbers (by bucket, upper bound)', summary.numbers || []);

    const most = summary.features.slice(0, 10);
    const least = summary.features.slice(-10).reverse();
    const list = (id, title, features) =>
      el('div', { 'data-list': id }, el('h3', {}, title), el('ol', {}, ...features.map((f) => el('li', { 'data-name': f.name }, f.name + ': ' + f.totalCalls))));
    section.append(el('div', { class: 'lists' }, list('most-used', 'Most used features', most), list('least-used', 'Least used features', least)));
  }

  async function main() {
    const status = document.getElementById('status');
    const container = document.getElementById('projects');
    try {
      const { projects } = await getJson('/api/projects');
      const shown = only ? projects.filter((p) => p.project === only) : projects;
      if (shown.length === 0) {
        status.textContent = 'No reports yet. Point a tallyho httpTransport at ' + location.origin + '/v1/reports.';
        return;
      }
      for (const p of shown) {
        const summary = await getJson('/api/projects/' + encodeURIComponent(p.project) + '/summary?weeks=' + encodeURIComponent(weeks));
        renderProject(container, summary);
      }
      status.textContent = shown.length + ' project' + (shown.length === 1 ? '' : 's') + ', last ' + weeks + ' weeks.';
      document.body.setAttribute('data-ready', 'true');
    } catch (error) {
      status.textContent = 'Could not load: ' + error.message;
      status.className = 'error';
      document.body.setAttribute('data-ready', 'error');
    }
  }

  main();
})();
