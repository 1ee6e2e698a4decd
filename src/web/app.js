// The page of `diplomacy serve`: a relation card, the pair's timeline as
// SVG, and a country's relations as a sortable table, all from the server's
// HTTP/JSON mapping (/v1/…). No library and nothing from the network.
'use strict';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const short = (value, prefix) => (value || '').replace(prefix, '');

// A GET of the mapping; a failed one throws the server's message, with the
// fields a BadRequest names.
async function api(path) {
  let answer;
  try {
    answer = await fetch(path, { headers: { Accept: 'application/json' } });
  } catch (e) {
    throw new Error('The server cannot be reached.');
  }
  let body = {};
  try { body = await answer.json(); } catch (e) { /* not JSON: keep the code */ }
  if (!answer.ok) {
    const fields = (body.details || [])
      .flatMap((d) => d.fieldViolations || [])
      .map((v) => `${v.field}: ${v.description}`);
    throw new Error([body.message || `The server answered ${answer.status}.`, ...fields].join(' — '));
  }
  return body;
}

function say(text) {
  $('message').textContent = text;
  $('message').hidden = !text;
}

// A country as typed (code or name, any spelling) → its code.
async function resolve(text) {
  const typed = text.trim();
  if (/^[A-Z]{2}$/.test(typed)) return typed;
  const found = await api(`/v1/countries:search?query=${encodeURIComponent(typed)}&max_results=1`);
  const match = (found.matches || [])[0];
  if (!match) throw new Error(`No country is called “${typed}”.`);
  return match.country.name.replace('countries/', '');
}

// Completion from the server's country search.
function complete(input, list) {
  let timer;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (input.value.trim().length < 2) return;
      try {
        const found = await api(`/v1/countries:search?query=${encodeURIComponent(input.value)}&max_results=8`);
        list.replaceChildren(...(found.matches || []).map((m) => {
          const option = document.createElement('option');
          option.value = m.country.displayName || m.country.name;
          return option;
        }));
      } catch (e) { /* completion is a convenience */ }
    }, 150);
  });
}

// A recorded date → its text and the days it covers [first, last].
const pad = (n) => String(n).padStart(2, '0');
function dateText(d) {
  if (!d) return '';
  return d.day ? `${d.year}-${pad(d.month)}-${pad(d.day)}` : d.month ? `${d.year}-${pad(d.month)}` : `${d.year}`;
}
function precision(d) {
  return d.day ? 'day' : d.month ? 'month' : 'year';
}
function period(d) {
  const first = Date.UTC(d.year, (d.month || 1) - 1, d.day || 1);
  const last = d.day ? first + 864e5
    : d.month ? Date.UTC(d.year, d.month, 1) : Date.UTC(d.year + 1, 0, 1);
  return [first, last];
}

function row(dl, term, value, className) {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = value === undefined || value === '' ? '—' : value;
  if (className) dd.className = className;
  dl.append(dt, dd);
}

function list(title, items) {
  const box = document.createElement('div');
  const h = document.createElement('h3');
  h.textContent = `${title} (${items.length})`;
  const ul = document.createElement('ul');
  for (const text of items) {
    const li = document.createElement('li');
    li.textContent = text;
    ul.append(li);
  }
  box.append(h, items.length ? ul : document.createTextNode('none'));
  return box;
}

function renderCard(r) {
  const dl = $('card');
  dl.replaceChildren();
  const status = short(r.diplomaticStatus, 'DIPLOMATIC_STATUS_');
  $('relation-title').textContent = `${(r.countries || []).join(' and ').replaceAll('countries/', '')} on ${dateText(r.asOf)}`;
  row(dl, 'Diplomatic status', status, `status-${status}`);
  row(dl, 'Since', dateText(r.statusSince));
  row(dl, 'Set by', r.statusRecord);
  if (r.border) {
    row(dl, 'Border', `${short(r.border.status, 'BORDER_STATUS_')}${r.border.since ? ` since ${dateText(r.border.since)}` : ''}`);
  }
  for (const x of r.recognitions || []) {
    row(dl, `${x.recognizer.replace('countries/', '')} recognises ${x.recognized.replace(/^(countries|actors)\//, '')}`,
      `${short(x.standing, 'RECOGNITION_STANDING_')}${x.since ? ` since ${dateText(x.since)}` : ''}`);
  }
  for (const x of r.representations || []) {
    row(dl, `${x.sending.replace('countries/', '')} mission in ${x.receiving.replace('countries/', '')}`,
      `${short(x.level, 'REPRESENTATION_LEVEL_')}${x.since ? ` since ${dateText(x.since)}` : ''}`);
  }
  row(dl, 'Allied', r.allied ? 'yes' : 'no');
  row(dl, 'Meetings so far', String(r.meetingCount || 0));
  if (r.nonexistentCountries && r.nonexistentCountries.length) {
    row(dl, 'Did not exist then', r.nonexistentCountries.join(', '));
  }
  if (r.uncertainRecords && r.uncertainRecords.length) {
    row(dl, 'Uncertain on this day', r.uncertainRecords.join(', '));
  }
  $('lists').replaceChildren(
    list('Treaties in force', (r.treatiesInForce || []).map((t) => `${t.title} (${t.name}), in force since ${dateText(t.entryIntoForceDate || t.signedDate)}`)),
    list('Treaties not in force', (r.treatiesNotInForce || []).map((t) => `${t.treaty.title} (${t.treaty.name}): ${short(t.standing, 'TREATY_NOT_IN_FORCE_STANDING_')}${t.since ? ` since ${dateText(t.since)}` : ''}`)),
    list('Armed conflicts', (r.armedConflicts || []).map((c) => `${c.title} (${c.name}), from ${dateText(c.startDate)}${c.ongoing ? ', ongoing' : ` to ${dateText(c.endDate)}`}`)),
    list('Mediations', (r.mediations || []).map((m) => `${m.mediator} (${short(m.role, 'PARTICIPANT_ROLE_').toLowerCase()}) from ${dateText(m.startDate)}${m.ongoing ? '' : ` to ${dateText(m.endDate)}`}`)),
  );
  $('relation').hidden = false;
}

async function allHistory(a, b) {
  const entries = [];
  let token = '';
  do {
    const page = await api(`/v1/countries/${a}/relations/${b}/history?page_size=1000${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
    entries.push(...(page.entries || []));
    token = page.nextPageToken || '';
  } while (token);
  return entries;
}

const STATUS_OF = {
  EVENT_KIND_RELATIONS_ESTABLISHED: 'ESTABLISHED', EVENT_KIND_RELATIONS_RESTORED: 'ESTABLISHED',
  EVENT_KIND_RELATIONS_SEVERED: 'SEVERED', EVENT_KIND_RELATIONS_DOWNGRADED: 'DOWNGRADED',
  EVENT_KIND_NO_RELATIONS: 'NONE', EVENT_KIND_NON_RECOGNITION: 'NONE',
};
const COLOURS = { ESTABLISHED: '#5cb85c', DOWNGRADED: '#f0ad4e', SEVERED: '#d9534f', NONE: '#c7a0a0' };

// The pair's records as timeline items: treaties and conflicts as bars,
// meetings as dots, other events as ticks, and the status as a band.
function items(entries, asOf) {
  const byRecord = new Map();
  for (const e of entries) {
    if (!byRecord.has(e.record)) byRecord.set(e.record, []);
    byRecord.get(e.record).push(e);
  }
  const bars = []; const dots = []; const ticks = []; const bands = [];
  for (const [record, es] of byRecord) {
    const first = es[0];
    const at = (kinds) => es.find((e) => kinds.includes(e.kind));
    if (record.startsWith('treaties/')) {
      const text = at(['HISTORY_ENTRY_KIND_TREATY_INITIALLED', 'HISTORY_ENTRY_KIND_TREATY_SIGNED']);
      const inForce = at(['HISTORY_ENTRY_KIND_TREATY_IN_FORCE']);
      const end = at(['HISTORY_ENTRY_KIND_TREATY_TERMINATED', 'HISTORY_ENTRY_KIND_TREATY_VOID']);
      bars.push({ record, title: first.title, entries: es, kind: 'treaty',
        start: period((text || inForce || first).date)[0], inForce: inForce && period(inForce.date)[0],
        end: end ? period(end.date)[1] : asOf });
    } else if (first.eventKind === 'EVENT_KIND_ARMED_CONFLICT') {
      const end = at(['HISTORY_ENTRY_KIND_EVENT_ENDED']);
      bars.push({ record, title: first.title, entries: es, kind: 'conflict',
        start: period(first.date)[0], end: end ? period(end.date)[1] : asOf });
    } else if (first.kind === 'HISTORY_ENTRY_KIND_MEETING') {
      const [s, e] = period(first.date);
      dots.push({ record, title: first.title, entries: es, start: s, end: e });
    } else {
      const [s, e] = period(first.date);
      ticks.push({ record, title: first.title, entries: es, start: s, end: e });
      const status = STATUS_OF[first.eventKind]
        || (first.eventKind === 'EVENT_KIND_RECOGNITION' && !bands.length ? 'NONE' : undefined);
      if (status) bands.push({ status, start: s, record });
    }
  }
  bands.sort((x, y) => x.start - y.start);
  return { bars, dots, ticks, bands };
}

function node(name, attributes, parent) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, v);
  if (parent) parent.append(el);
  return el;
}

function describe(item) {
  const dates = item.entries.map((e) => `${short(e.kind, 'HISTORY_ENTRY_KIND_').toLowerCase().replaceAll('_', ' ')} ${dateText(e.date)} (to the ${precision(e.date)})`);
  const mediators = [...new Set(item.entries.flatMap((e) => e.mediators || []))];
  const sources = [...new Set(item.entries.flatMap((e) => (e.sources || []).map((s) => s.title)))];
  return `${item.title} (${item.record}): ${dates.join('; ')}${mediators.length ? `. Mediators and hosts: ${mediators.join(', ')}` : ''}. Sources: ${sources.join('; ') || 'none recorded'}.`;
}

function renderTimeline(entries, asOfDay, onPick) {
  const asOf = period(asOfDay)[1];
  const { bars, dots, ticks, bands } = items(entries, asOf);
  const starts = [...bars, ...dots, ...ticks].map((i) => i.start).concat(bands.map((b) => b.start));
  const from = Math.min(...starts, asOf) - 365 * 864e5;
  const until = Math.max(asOf, ...bars.map((b) => b.end)) + 365 * 864e5;
  // Shown first, so that the chart is measured at the width it gets.
  $('timeline').hidden = false;
  const width = Math.max(640, $('chart').clientWidth - 2);
  const x = (t) => 10 + ((t - from) / (until - from)) * (width - 20);
  const rowHeight = 18;
  const height = 30 + (bars.length + 3) * rowHeight + 30;
  const svg = node('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'aria-label': 'Timeline of the pair' });
  // The status band.
  bands.forEach((b, i) => {
    const end = i + 1 < bands.length ? bands[i + 1].start : until;
    const rect = node('rect', { x: x(b.start), y: 6, width: Math.max(1, x(end) - x(b.start)), height: 14, fill: COLOURS[b.status] || '#ccc', tabindex: 0, 'data-record': b.record }, svg);
    node('title', {}, rect).textContent = `${b.status} from ${new Date(b.start).toISOString().slice(0, 10)} (${b.record})`;
  });
  const show = (el, item) => {
    const text = describe(item);
    node('title', {}, el).textContent = text;
    const detail = () => { $('detail').textContent = text; };
    el.addEventListener('mouseenter', detail);
    el.addEventListener('focus', detail);
  };
  bars.forEach((b, i) => {
    const y = 30 + i * rowHeight;
    const g = node('g', { tabindex: 0, class: `bar ${b.kind}`, 'data-record': b.record }, svg);
    const colour = b.kind === 'conflict' ? '#c0392b' : '#1f4e79';
    const pendingEnd = b.inForce || (b.kind === 'treaty' ? b.end : b.start);
    if (b.kind === 'treaty' && pendingEnd > b.start) {
      node('rect', { x: x(b.start), y, width: Math.max(2, x(pendingEnd) - x(b.start)), height: 12, fill: 'none', stroke: colour, 'stroke-dasharray': '3 2' }, g);
    }
    const solidFrom = b.kind === 'treaty' ? b.inForce : b.start;
    if (solidFrom) {
      node('rect', { x: x(solidFrom), y, width: Math.max(2, x(b.end) - x(solidFrom)), height: 12, fill: colour }, g);
    }
    node('text', { x: x(b.start) + 2, y: y + 10, 'font-size': 10, fill: '#000' }, g).textContent = b.title;
    show(g, b);
  });
  const meetingsY = 30 + bars.length * rowHeight;
  for (const d of dots) {
    const wide = d.end - d.start > 2 * 864e5;
    const el = wide
      ? node('rect', { x: x(d.start), y: meetingsY + 2, width: Math.max(4, x(d.end) - x(d.start)), height: 8, rx: 4, fill: '#8e44ad', tabindex: 0, 'data-record': d.record }, svg)
      : node('circle', { cx: x(d.start), cy: meetingsY + 6, r: 4, fill: '#8e44ad', tabindex: 0, 'data-record': d.record }, svg);
    show(el, d);
  }
  const ticksY = meetingsY + rowHeight;
  for (const t of ticks) {
    const el = node('rect', { x: x(t.start), y: ticksY, width: Math.max(2, x(t.end) - x(t.start)), height: 12, fill: '#555', tabindex: 0, 'data-record': t.record }, svg);
    show(el, t);
  }
  // The axis: years, the day asked about, and a click to set the date.
  const axisY = ticksY + rowHeight + 6;
  const axis = node('g', { class: 'axis' }, svg);
  node('rect', { x: 0, y: axisY - 6, width, height: 30, fill: '#f3f3f3' }, axis);
  const firstYear = new Date(from).getUTCFullYear();
  const lastYear = new Date(until).getUTCFullYear();
  const step = Math.max(1, Math.ceil((lastYear - firstYear) / (width / 60)));
  for (let year = firstYear; year <= lastYear; year += step) {
    const at = x(Date.UTC(year, 0, 1));
    node('line', { x1: at, x2: at, y1: axisY - 4, y2: axisY + 2, stroke: '#333' }, axis);
    node('text', { x: at + 2, y: axisY + 14, 'font-size': 10 }, axis).textContent = String(year);
  }
  node('line', { x1: x(asOf), x2: x(asOf), y1: 0, y2: axisY, stroke: '#f0a500', 'stroke-width': 2 }, svg);
  axis.addEventListener('click', (event) => {
    const box = svg.getBoundingClientRect();
    const t = from + ((event.clientX - box.left - 10) / (width - 20)) * (until - from);
    onPick(new Date(t).toISOString().slice(0, 10));
  });
  $('chart').replaceChildren(svg);
  $('timeline').hidden = false;
}

let countryRows = [];
let sortKey = 'other';
function renderCountry(code, relations, date) {
  countryRows = relations.map((r) => ({
    other: (r.countries || []).find((c) => c !== `countries/${code}`) || r.name,
    status: short(r.diplomaticStatus, 'DIPLOMATIC_STATUS_'),
    since: dateText(r.statusSince),
    treaties: r.treatiesInForceCount || 0,
    conflicts: r.armedConflictsCount || 0,
    meetings: r.meetingCount || 0,
  }));
  $('country-title').textContent = `Relations of ${code} on ${date} (${countryRows.length})`;
  sortCountry();
  $('country').hidden = false;
}
function sortCountry() {
  const rows = [...countryRows].sort((p, q) => (p[sortKey] < q[sortKey] ? -1 : p[sortKey] > q[sortKey] ? 1 : 0));
  if (['treaties', 'conflicts', 'meetings'].includes(sortKey)) rows.reverse();
  $('country-table').tBodies[0].replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr');
    for (const key of ['other', 'status', 'since', 'treaties', 'conflicts', 'meetings']) {
      const td = document.createElement('td');
      td.textContent = String(r[key] || (key === 'since' ? '—' : r[key]));
      if (key === 'status') td.className = `status-${r.status}`;
      tr.append(td);
    }
    return tr;
  }));
}

async function show() {
  say('');
  const date = $('date').value;
  const a = $('a').value; const b = $('b').value;
  const params = new URLSearchParams({ a, date });
  if (b) params.set('b', b);
  history.replaceState(null, '', `?${params}`);
  try {
    if (!date) throw new Error('Give a date.');
    const codeA = await resolve(a);
    if (!b.trim()) {
      $('relation').hidden = true; $('timeline').hidden = true;
      const relations = [];
      let token = '';
      do {
        const page = await api(`/v1/countries/${codeA}/relations?as_of=${date}&view=RELATION_VIEW_BASIC&page_size=1000${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
        relations.push(...(page.relations || []));
        token = page.nextPageToken || '';
      } while (token);
      renderCountry(codeA, relations, date);
      return;
    }
    const codeB = await resolve(b);
    $('country').hidden = true;
    const relation = await api(`/v1/countries/${codeA}/relations/${codeB}?as_of=${date}`);
    renderCard(relation);
    renderTimeline(await allHistory(codeA, codeB), relation.asOf, (picked) => {
      $('date').value = picked;
      show();
    });
  } catch (e) {
    say(e.message);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  complete($('a'), $('a-options'));
  complete($('b'), $('b-options'));
  for (const button of document.querySelectorAll('#country-table th button')) {
    button.addEventListener('click', () => { sortKey = button.dataset.key; sortCountry(); });
  }
  const params = new URLSearchParams(location.search);
  $('a').value = params.get('a') || '';
  $('b').value = params.get('b') || '';
  const asked = params.get('date');
  $('date').value = asked || new Date().toISOString().slice(0, 10);
  $('ask').addEventListener('submit', (event) => { event.preventDefault(); show(); });
  // A date field holds only days that exist: say so rather than drop it.
  if (asked && $('date').value !== asked) {
    say(`“${asked}” is not a date: give a day that exists, as YYYY-MM-DD.`);
    return;
  }
  if (params.get('a')) show();
});
