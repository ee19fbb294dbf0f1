// The Flotilla web console: renders the state the MASTER pushes over server-sent events.
// Plain DOM, no framework and no build step; text is always set as text, never parsed as HTML.
'use strict';

const EVENTS_PER_SERVER = 6;
let state = null;
// MASTER clock minus ours: time in status is counted on the MASTER's clock.
let skew = 0;
// What this browser may do (GET /console/api/session): read-only until it says admin.
let session = { admin: false };
// When the MASTER was last heard from, and since when it is not: the table is then not current.
let lastHeard = 0;
let unreachableSince = null;
// Servers with an operation under way: their buttons wait for it.
const busy = new Set();
/** Nothing heard for this long (a push or the MASTER's alive beat each second): the MASTER is gone. */
const STALE_MS = 2500;

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

// One date format everywhere: the browser's locale, with the time zone.
const DATE_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
});

function when(time) {
  return DATE_FORMAT.format(new Date(time));
}

function statusPill(status, since) {
  return el('span', { className: `status status-${status}` }, status, since ? el('span', { className: 'since', 'data-since': since }, `(${duration(since)})`) : null);
}

function dash(value) {
  return value === undefined || value === null || value === '' ? '-' : value;
}

function actionButton(label, op, target, extra = {}) {
  return el('button', { type: 'button', className: 'change', 'data-op': op, 'data-target': target, disabled: !session.admin || busy.has(target) || unreachableSince !== null, ...extra }, label);
}

function serverActions(row) {
  if (row.master) return '-';
  return el('span', { className: 'actions' },
    actionButton('Start', 'start', row.name), actionButton('Stop', 'stop', row.name), actionButton('Restart', 'restart', row.name),
    el('button', { type: 'button', 'data-log': row.name }, 'Log'));
}

function serverRow(row) {
  if (unreachableSince !== null) return staleRow(row);
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
    el('td', {}, serverActions(row)),
  );
}

/** The MASTER is unreachable: what it last said is history, not the status now. */
function staleRow(row) {
  return el(
    'tr',
    { 'data-server': row.name, 'data-status': 'UNKNOWN', className: `stale${row.master ? ' master' : ''}` },
    el('td', { className: 'name' }, row.master ? `${row.name} (*)` : row.name),
    el('td', {}, el('span', { className: 'status status-UNKNOWN', title: `last known ${row.status}` }, 'UNKNOWN'), el('span', { className: 'muted' }, ` was ${row.status} at ${when(unreachableSince)}`)),
    el('td', {}, row.node),
    el('td', { className: 'num' }, '-'),
    el('td', {}, dash(row.cluster)),
    el('td', {}, '-'),
    el('td', { className: 'num' }, '-'),
    el('td', { className: 'mono' }, `${row.address}:${row.port}`),
    el('td', { className: 'num' }, dash(row.http)),
    el('td', {}, '-'),
    el('td', {}, serverActions(row)),
  );
}

function eventItem(event, withServer) {
  if (event.source === 'master') {
    return el(
      'li',
      { className: `event event-master level-${event.level}` },
      el('time', { datetime: event.time }, when(event.time)),
      el('span', { className: 'kind', title: 'the MASTER\'s log' }, event.code),
      el('span', { className: event.level === 'info' ? '' : event.level === 'warn' ? 'warn' : 'bad' }, event.message),
    );
  }
  return el(
    'li',
    { className: `event event-${event.source}` },
    el('time', { datetime: event.time }, when(event.time)),
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
        el('thead', {}, el('tr', {}, el('th', {}, 'Application'), el('th', {}, 'Context'), el('th', {}, 'Status'), el('th', {}, 'Restarts'), el('th', {}, 'Output'))),
        el('tbody', {}, row.apps.map((app) =>
          el('tr', {}, el('td', {}, app.name), el('td', { className: 'mono' }, app.context), el('td', {}, el('span', { className: `status status-${app.status}` }, app.status)), el('td', { className: 'num' }, app.restarts), el('td', {}, el('button', { type: 'button', 'data-log': row.name, 'data-app': app.name }, 'Output'))))),
      )
    : el('p', { className: 'muted' }, row.status === 'SHUTDOWN' || row.status === 'FAILED' ? 'Not running.' : 'No applications.');
  const events = state.events.filter((event) => event.source !== 'master' && event.server === row.name).slice(0, EVENTS_PER_SERVER);
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
    el('td', {}, when(member.since)),
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
  else if (boot.outcome === 'failed') facts.push(...fact('Last boot backup', el('span', { className: 'bad' }, `${when(boot.time)} failed: ${boot.error}`)));
  else {
    facts.push(...fact('Last boot backup', `${when(boot.time)} · generation ${dash(boot.generation)} · ${(boot.bytes / 1024).toFixed(0)} KiB`));
    facts.push(...fact('Where', el('span', { className: 'mono' }, dash(boot.location))));
    if (boot.copyFailure) facts.push(...fact('Copy failed', el('span', { className: 'bad' }, boot.copyFailure)));
  }
  if (requested) facts.push(...fact('Last pack-domain', `${when(requested.createdAt)} · generation ${dash(requested.generation)}`, el('br'), el('span', { className: 'mono' }, requested.path)));
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
  const events = state.events.length ? state.events.map((event) => eventItem(event, true)) : [el('li', { className: 'muted' }, 'No events recorded.')];
  document.getElementById('events').replaceChildren(...events);
  document.getElementById('clusters').replaceChildren(...state.outline.clusters.map((cluster) =>
    actionButton(`Rolling restart of ${cluster.name} (${cluster.servers.join(', ')})`, 'restart', cluster.name, { 'data-rolling': 'true' })));
  document.querySelector('#applications tbody').replaceChildren(...(state.outline.applications.length
    ? state.outline.applications.map((app) => el('tr', { 'data-app': app.name },
        el('td', {}, app.name), el('td', { className: 'mono' }, app.context), el('td', {}, app.targets.join(', ')),
        el('td', {}, el('button', { type: 'button', className: 'change', 'data-undeploy': app.name, disabled: !session.admin || unreachableSince !== null }, 'Undeploy'))))
    : [el('tr', {}, el('td', { colspan: 4, className: 'muted' }, 'No applications deployed.'))]));
  fillBackupForm();
  // The forms too wait for a MASTER that can take their change.
  for (const fieldset of document.querySelectorAll('form.admin fieldset')) fieldset.disabled = !session.admin || unreachableSince !== null;
}

/** Only the times in status move between two pushes. */
function tick() {
  if (unreachableSince !== null) return;
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
    lastHeard = Date.now();
    unreachableSince = null;
    render();
    connection('live', `live · ${when(state.now)}`);
  });
  source.addEventListener('alive', (message) => {
    lastHeard = Date.now();
    // Only a state makes the table current again: the MASTER sends one to every new stream.
    if (unreachableSince === null) connection('live', `live · ${when(message.data)}`);
  });
  source.addEventListener('error', () => {
    unreachable(Date.now());
    if (source.readyState === EventSource.CLOSED) {
      // Refused (the session ended) or the stream cannot be reached at all: the login page says why.
      connection('closed', 'disconnected: reload, or log in again with master console-url');
    } else {
      connection('reconnecting', `MASTER unreachable since ${when(unreachableSince)}: reconnecting…`);
    }
  });
}

/** From now on nothing the page shows of the MASTER's is current: every row says so. */
function unreachable(since) {
  if (unreachableSince !== null || state === null) return;
  unreachableSince = new Date(since).toISOString();
  render();
  connection('reconnecting', `MASTER unreachable since ${when(unreachableSince)}: reconnecting…`);
}

function watchdog() {
  if (lastHeard && Date.now() - lastHeard > STALE_MS) unreachable(lastHeard);
}


// ---- Admin controls: every change goes to /console/api/<change> with the session's change token.

const CHANGE_TOKEN_HEADER = 'x-flotilla-console-token';
const CONFIRM = {
  stop: (target) => `Stop ${target}? Its applications stop answering, and failure handling leaves it stopped until it is started again.`,
  restart: (target, rolling) => (rolling ? `Restart every server of ${target}, one at a time?` : `Restart ${target}? Its applications stop answering while it restarts.`),
};
let logStream = null;
/** The policy the form was last filled from: a push of the same one leaves the operator's edits alone. */
let backupFilled = '';

async function loadSession() {
  try {
    const response = await fetch('/console/api/session', { credentials: 'same-origin' });
    if (!response.ok) return;
    session = await response.json();
  } catch {
    return;
  }
  document.getElementById('session').textContent = session.admin ? `admin session ${session.id}` : 'read-only session';
  if (!session.admin) for (const form of document.querySelectorAll('form.admin')) form.title = 'Read-only session: changes need a link from master console-url --admin';
  if (state) render();
}

function notify(kind, text) {
  const node = document.getElementById('notice');
  node.hidden = false;
  node.dataset.kind = kind;
  node.textContent = text;
}

/** A change as the page makes it; a refusal throws with the command's message (and its fields). */
async function change(name, body, query) {
  const response = await fetch(`/console/api/${name}${query ? `?${new URLSearchParams(query)}` : ''}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { [CHANGE_TOKEN_HEADER]: session.changeToken ?? '', 'content-type': body instanceof Blob ? 'application/zip' : 'application/json' },
    body: body instanceof Blob ? body : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ error: `the MASTER answered HTTP ${response.status}` }));
  if (!response.ok) throw Object.assign(new Error(answer.error ?? `HTTP ${response.status}`), { fields: answer.fields ?? {} });
  return answer;
}

function showErrors(form, error) {
  for (const node of form.querySelectorAll('.field-error')) node.textContent = '';
  if (!error) return;
  const fields = error.fields ?? {};
  let placed = false;
  for (const [field, message] of Object.entries(fields)) {
    const node = form.querySelector(`.field-error[data-for="${field}"]`);
    if (node) {
      node.textContent = message;
      placed = true;
    }
  }
  if (!placed) form.querySelector('.field-error[data-for="form"]').textContent = error.message;
  const first = form.querySelector('.field-error:not(:empty)');
  first?.previousElementSibling?.querySelector('input, select, textarea')?.focus();
}

/** Submits a form's change, with its errors beside its fields and the command's answer above all. */
function onSubmit(id, make) {
  const form = document.getElementById(id);
  form.addEventListener('submit', async (submit) => {
    submit.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const done = await make(form);
      if (!done) return;
      showErrors(form, null);
      notify('ok', done.message);
    } catch (error) {
      showErrors(form, error);
      notify('bad', error.message);
    } finally {
      button.disabled = false;
    }
  });
}

function fillBackupForm() {
  const form = document.getElementById('backup-form');
  const backup = state.backup;
  const nodes = state.outline.nodes;
  if (backup.error) return;
  const filled = JSON.stringify({ policy: backup.policy, nodes });
  if (filled === backupFilled || form.contains(document.activeElement)) return;
  backupFilled = filled;
  const { policy } = backup;
  form.elements.backupOnBoot.checked = policy.onBoot;
  form.elements.backupDir.value = policy.dir;
  form.elements.nodeName.replaceChildren(el('option', { value: 'none' }, 'none (this machine)'), ...nodes.map((node) => el('option', { value: node }, node)));
  form.elements.nodeName.value = policy.node ?? 'none';
  form.elements.keep.value = String(policy.keep);
  form.elements.encryptTo.value = (policy.encryptTo ?? []).join('\n');
}

async function serverOperation(button) {
  const { op, target, rolling } = button.dataset;
  const ask = CONFIRM[op];
  if (ask && !window.confirm(ask(target, rolling === 'true'))) return;
  busy.add(target);
  render();
  notify('info', `${rolling ? 'rolling ' : ''}${op} of ${target}…`);
  try {
    const done = await change('server-operation', { operation: op, targets: [target], rolling: rolling === 'true' });
    notify(done.answer.results.every((result) => result.ok) ? 'ok' : 'bad', done.message);
  } catch (error) {
    notify('bad', error.message);
  } finally {
    busy.delete(target);
    if (state) render();
  }
}

async function undeploy(name) {
  if (!window.confirm(`Undeploy ${name}? It stops on every server it runs on and its files are removed.`)) return;
  try {
    notify('ok', (await change('undeploy', { name })).message);
  } catch (error) {
    notify('bad', error.message);
  }
}

/** A server's log, or an application's output on one server, followed live. */
function openLog(server, app) {
  logStream?.close();
  const section = document.getElementById('log');
  const lines = document.getElementById('log-lines');
  lines.replaceChildren();
  document.getElementById('log-title').textContent = app ? `Output of ${app} on ${server}` : `Log of ${server}`;
  section.hidden = false;
  const query = new URLSearchParams(app ? { server, app } : { server });
  const stream = new EventSource(`/console/api/log?${query}`);
  logStream = stream;
  const append = (text) => {
    lines.append(document.createTextNode(`${text}\n`));
    // The last lines only: a tail, not the whole log in the page.
    while (lines.childNodes.length > LOG_LINES) lines.firstChild.remove();
    lines.scrollTop = lines.scrollHeight;
  };
  stream.addEventListener('line', (message) => append(JSON.parse(message.data)));
  stream.addEventListener('note', (message) => append(`(${JSON.parse(message.data)})`));
  stream.addEventListener('error', () => {
    // A reconnect would start the tail over: the operator opens it again instead.
    stream.close();
    if (logStream === stream) append('(the log stream ended: open it again to go on)');
  });
  section.scrollIntoView({ block: 'nearest' });
}
const LOG_LINES = 2000;

function wireControls() {
  document.addEventListener('click', (click) => {
    const button = click.target.closest('button');
    if (!button || button.disabled) return;
    if (button.dataset.op) void serverOperation(button);
    else if (button.dataset.undeploy) void undeploy(button.dataset.undeploy);
    else if (button.dataset.log) openLog(button.dataset.log, button.dataset.app);
    else if (button.id === 'log-close') {
      logStream?.close();
      logStream = null;
      document.getElementById('log').hidden = true;
    }
  });
  onSubmit('backup-form', async (form) => {
    const { elements } = form;
    const done = await change('backup-policy', {
      backupOnBoot: String(elements.backupOnBoot.checked),
      backupDir: elements.backupDir.value,
      nodeName: elements.nodeName.value,
      keep: elements.keep.value,
      encryptTo: elements.encryptTo.value.split('\n').map((line) => line.trim()).filter(Boolean),
    });
    backupFilled = '';
    return done;
  });
  onSubmit('deploy-form', async (form) => {
    const { elements } = form;
    const file = elements.zip.files[0];
    if (!file) throw new Error('choose a zip of the application to upload');
    return change('deploy', file, { name: elements.name.value.trim(), context: elements.context.value.trim(), targets: elements.targets.value });
  });
  onSubmit('setting-form', (form) => change('setting', { path: form.elements.path.value.trim(), value: form.elements.value.value }));
}

connect();
setInterval(tick, 1000);
setInterval(watchdog, 500);
loadSession();
wireControls();
