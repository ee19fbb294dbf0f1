// The Flotilla web console: renders the state the MASTER pushes over server-sent events.
// Plain DOM, no framework and no build step; text is always set as text, never parsed as HTML.
'use strict';

const EVENTS_PER_SERVER = 6;
let state = null;
// MASTER clock minus ours: time in status is counted on the MASTER's clock.
let skew = 0;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'className') node.className = value;
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function duration(since) {
  if (!since) return '';
  const seconds = Math.max(0, Math.floor((Date.now() + skew - Date.parse(since)) / 1000));
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}

function clock(time) {
  return new Date(time).toLocaleTimeString([], { hour12: false });
}

function statusPill(status, since) {
  return el('span', { className: `status status-${status}` }, status, since ? el('span', { className: 'since', 'data-since': since }, `(${duration(since)})`) : null);
}

function dash(value) {
  return value === undefined || value === null || value === '' ? '-' : value;
}

function serverRow(row) {
  const behind = !row.master && row.generation != null && row.generation < state.generation;
  const mode = row.master ? '-' : row.mode ? (row.reason ? `${row.mode} (${row.reason})` : row.mode) : '-';
  return el(
    'tr',
    { 'data-server': row.name, 'data-status': row.status, className: row.master ? 'master' : '' },
    el('td', { className: 'name' }, row.master ? `${row.name} (*)` : row.name),
    el('td', {}, statusPill(row.status, row.since)),
    el('td', {}, row.node),
    el('td', { className: 'num' }, dash(row.pid)),
    el('td', {}, dash(row.cluster)),
    el('td', { className: row.mode === 'INDEPENDENT' ? 'warn' : '' }, mode),
    el('td', { className: `num${behind ? ' warn' : ''}` }, row.master ? state.generation : dash(row.generation), behind ? ` (${state.generation - row.generation} behind)` : ''),
    el('td', { className: 'mono' }, `${row.address}:${row.port}`),
    el('td', { className: 'num' }, dash(row.http)),
    el('td', { className: row.failure ? 'failure' : '' }, dash(row.failure)),
  );
}

function eventItem(event, withServer) {
  return el(
    'li',
    { className: `event event-${event.source}` },
    el('time', { datetime: event.time }, clock(event.time)),
    withServer ? el('strong', {}, event.server) : null,
    el('span', { className: 'kind', title: event.source === 'heartbeat' ? 'decided by the heartbeats' : 'the status table changed' }, event.event ?? 'status'),
    el('span', {}, `${event.from} → `, el('span', { className: `status status-${event.to}` }, event.to)),
    event.incarnation ? el('span', { className: 'muted' }, `incarnation ${event.incarnation}`) : null,
  );
}

function serverDetail(row) {
  const apps = row.apps.length
    ? el(
        'table',
        { className: 'grid compact' },
        el('thead', {}, el('tr', {}, el('th', {}, 'Application'), el('th', {}, 'Context'), el('th', {}, 'Status'), el('th', {}, 'Restarts'))),
        el('tbody', {}, row.apps.map((app) =>
          el('tr', {}, el('td', {}, app.name), el('td', { className: 'mono' }, app.context), el('td', {}, el('span', { className: `status status-${app.status}` }, app.status)), el('td', { className: 'num' }, app.restarts)))),
      )
    : el('p', { className: 'muted' }, row.status === 'SHUTDOWN' || row.status === 'FAILED' ? 'Not running.' : 'No applications.');
  const events = state.events.filter((event) => event.server === row.name).slice(0, EVENTS_PER_SERVER);
  return el(
    'article',
    { className: 'detail', 'data-server': row.name },
    el('h3', {}, row.name, ' ', statusPill(row.status, null)),
    apps,
    events.length ? el('ol', { className: 'events' }, events.map((event) => eventItem(event, false))) : el('p', { className: 'muted' }, 'No events since the MASTER started.'),
  );
}

function memberRow(member) {
  return el(
    'tr',
    { 'data-member': member.name },
    el('td', {}, member.self ? `${member.name} (self)` : member.name),
    el('td', {}, el('span', { className: `status status-${member.status}` }, member.state)),
    el('td', { className: 'num' }, member.incarnation),
    el('td', { className: 'mono' }, `${member.address}:${member.port}`),
    el('td', {}, clock(member.since)),
  );
}

function fact(term, ...value) {
  return [el('dt', {}, term), el('dd', {}, ...value)];
}

function backupFacts(backup) {
  if (backup.error) return fact('Backups', el('span', { className: 'bad' }, backup.error));
  const { policy, lastBootBackup: boot, lastRequested: requested } = backup;
  const facts = [
    ...fact('Backup on boot', policy.onBoot ? 'on' : 'off'),
    ...fact('Directory', el('span', { className: 'mono' }, policy.directory)),
    ...fact('Copy to node', policy.node ?? 'none (this machine)'),
    ...fact('Keep', policy.keep),
  ];
  if (!boot) facts.push(...fact('Last boot backup', el('span', { className: 'muted' }, 'none recorded')));
  else if (boot.outcome === 'failed') facts.push(...fact('Last boot backup', el('span', { className: 'bad' }, `${clock(boot.time)} failed: ${boot.error}`)));
  else {
    facts.push(...fact('Last boot backup', `${new Date(boot.time).toLocaleString()} · generation ${dash(boot.generation)} · ${(boot.bytes / 1024).toFixed(0)} KiB`));
    facts.push(...fact('Where', el('span', { className: 'mono' }, dash(boot.location))));
    if (boot.copyFailure) facts.push(...fact('Copy failed', el('span', { className: 'bad' }, boot.copyFailure)));
  }
  if (requested) facts.push(...fact('Last pack-domain', `${new Date(requested.createdAt).toLocaleString()} · generation ${dash(requested.generation)}`, el('br'), el('span', { className: 'mono' }, requested.path)));
  return facts;
}

function render() {
  document.getElementById('domain').textContent = state.domain;
  document.getElementById('generation').textContent = `generation ${state.generation}`;
  document.title = `Flotilla console: ${state.domain}`;
  document.querySelector('#servers tbody').replaceChildren(...state.servers.map(serverRow));
  document.getElementById('details').replaceChildren(...state.servers.filter((row) => !row.master).map(serverDetail));
  const membership = state.membership ?? [];
  document.querySelector('#membership tbody').replaceChildren(...membership.map(memberRow));
  document.getElementById('membership-none').hidden = state.membership !== null;
  document.getElementById('backup').replaceChildren(...backupFacts(state.backup));
  const events = state.events.length ? state.events.map((event) => eventItem(event, true)) : [el('li', { className: 'muted' }, 'No events since the MASTER started.')];
  document.getElementById('events').replaceChildren(...events);
}

/** Only the times in status move between two pushes. */
function tick() {
  for (const node of document.querySelectorAll('[data-since]')) node.textContent = `(${duration(node.dataset.since)})`;
}

function connection(kind, text) {
  const node = document.getElementById('connection');
  node.dataset.state = kind;
  node.textContent = text;
}

function connect() {
  const source = new EventSource('/console/events');
  source.addEventListener('state', (message) => {
    state = JSON.parse(message.data);
    skew = Date.parse(state.now) - Date.now();
    render();
    connection('live', `live · ${clock(state.now)}`);
  });
  source.addEventListener('open', () => connection('live', 'live'));
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      // Refused (the session ended) or the stream cannot be reached at all: the login page says why.
      connection('closed', 'disconnected: reload, or log in again with master console-url');
    } else {
      connection('reconnecting', 'MASTER unreachable: reconnecting…');
    }
  });
}

connect();
setInterval(tick, 1000);
