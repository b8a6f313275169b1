// The supervision cockpit (驾驶舱): plain JavaScript over the HTTP API (docs/service.md, "Cockpit").
// Pages by the location hash: #/login, #/tasks (待办), #/done (已办), #/cases/{id}, #/supervision (督查).
// The bearer token is kept in sessionStorage (gone when the tab closes) and sent on every request.

const API = '/api/v1';
const TOKEN_KEY = 'efficacy_flow.token';
const CARD_ORDER = { warning: 1, yellow: 2, red: 3 };
const CARD_LABELS = { warning: '预警', yellow: '黄牌', red: '红牌' };
const EVENT_LABELS = {
  started: '受理', task_completed: '办理完成', timer_fired: '时限到达', commented: '备注', claimed: '认领',
  unclaimed: '取消认领', assigned: '指派', delegated: '委派', delegate_resolved: '委派办结', transferred: '转办',
  returned: '退回', withdrawn: '撤回', urged: '催办', extended: '延期', suspended: '暂停', resumed: '恢复',
  cancelled: '撤销', migrated: '迁移', message: '收到消息', card_issued: '亮牌', card_cleared: '消牌',
  step_failed: '步骤异常', incident_resolved: '异常已解决', instance_completed: '办结', refused: '拒绝操作',
  rating_removed: '差评撤销',
};

const view = document.getElementById('view');
let me = null; // {id, roles, role_labels, unit, now}
let clockOffset = 0; // the server's clock minus this browser's (overdue is judged on the engine's clock)

// ---- helpers -------------------------------------------------------------------------------------------------

export class Problem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

async function api(path, { method = 'GET', body, accept = 'application/json' } = {}) {
  const headers = { Accept: accept };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const answer = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (answer.status === 401 && path !== '/me') {
    signOut();
    throw new Problem(401, { detail: '登录已失效，请重新登录' });
  }
  const type = answer.headers.get('content-type') || '';
  const payload = type.includes('json') ? await answer.json() : await answer.text();
  if (!answer.ok) throw new Problem(answer.status, typeof payload === 'object' ? payload : { detail: payload });
  return payload;
}

async function all(path, params = {}) {
  const items = [];
  let after = null;
  for (;;) {
    const query = new URLSearchParams({ ...params, limit: '500' });
    if (after) query.set('after', after);
    const page = await api(`${path}?${query}`);
    items.push(...page.items);
    if (!page.next_after) return items;
    after = page.next_after;
  }
}

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function now() {
  return Date.now() + clockOffset;
}

function when(text) {
  if (!text) return '—';
  const at = new Date(text);
  const parts = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    hour12: false,
  }).formatToParts(at);
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}`;
}

function isOverdue(due) {
  return Boolean(due) && new Date(due).getTime() <= now();
}

function dueCell(due) {
  const overdue = isOverdue(due);
  return h('td', { class: overdue ? 'due overdue' : 'due' }, when(due), overdue ? '（逾期）' : '');
}

function cardBadge(card) {
  if (!card) return '';
  return h('span', { class: `card card-${card.level}`, title: card.reason || '' }, card.label || CARD_LABELS[card.level]);
}

/** The worst open card of each instance (cleared cards are history). */
async function openCards(instanceIds) {
  const worst = new Map();
  await Promise.all([...new Set(instanceIds)].map(async (id) => {
    const cards = await all('/cards', { instance_id: id });
    for (const card of cards) {
      if (card.cleared_at) continue;
      const known = worst.get(id);
      if (!known || CARD_ORDER[card.level] > CARD_ORDER[known.level]) worst.set(id, card);
    }
  }));
  return worst;
}

function problemText(error) {
  const lines = [error.message];
  for (const item of error.body.errors || []) {
    const where = Array.isArray(item.loc) ? item.loc.join('.') : item.field || item.path || '';
    lines.push(`${where ? where + '：' : ''}${item.msg || item.message || JSON.stringify(item)}`);
  }
  return lines.join('\n');
}

function table(headers, rows, empty) {
  return h('table', {},
    h('thead', {}, h('tr', {}, headers.map((name) => h('th', {}, name)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, empty))));
}

function caseLink(id) {
  return h('a', { href: `#/cases/${encodeURIComponent(id)}`, class: 'case-link', onclick: (e) => e.stopPropagation() }, id);
}

// ---- sign in -------------------------------------------------------------------------------------------------

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  me = null;
  location.hash = '#/login';
}

async function loadMe() {
  me = await api('/me');
  clockOffset = new Date(me.now).getTime() - Date.now();
  const roles = me.roles.map((role) => me.role_labels[role] || role).join('、');
  document.getElementById('who-name').textContent = `${me.id}（${roles || '无角色'}${me.unit ? '，' + me.unit : ''}）`;
  document.getElementById('who').hidden = false;
  document.getElementById('nav').hidden = false;
}

function loginPage(message) {
  document.getElementById('who').hidden = true;
  document.getElementById('nav').hidden = true;
  const problem = h('div', { class: 'problem', id: 'login-problem' }, message || '');
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off', required: true });
  const form = h('form', { class: 'login', id: 'login' },
    h('label', { for: 'token' }, '访问令牌'), input,
    h('button', { type: 'submit', class: 'primary' }, '登录'), problem);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    try {
      await loadMe();
      const target = ['', '#', '#/', '#/login'].includes(location.hash) ? '#/tasks' : location.hash;
      if (location.hash === target) route();
      else location.hash = target;
    } catch (error) {
      sessionStorage.removeItem(TOKEN_KEY);
      problem.textContent = error.status === 401 ? '令牌无效或已过期' : problemText(error);
    }
  });
  view.replaceChildren(h('section', {}, h('h2', {}, '登录'), form));
  input.focus();
}

// ---- 待办 and the task form ---------------------------------------------------------------------------------

/** The actor's 待办: the tasks of each of their roles (in their unit, if they have one) and those assigned to them. */
async function myTasks() {
  const lists = await Promise.all([
    ...me.roles.map((role) => all('/tasks', me.unit ? { role, unit: me.unit } : { role })),
    all('/tasks', { assignee: me.id }),
  ]);
  const byId = new Map();
  for (const task of lists.flat()) {
    if (task.assignee && task.assignee !== me.id) continue; // someone else's now
    byId.set(task.id, task);
  }
  return [...byId.values()].sort((a, b) => (a.due_at ? new Date(a.due_at) : Infinity) - (b.due_at ? new Date(b.due_at) : Infinity) || (a.id < b.id ? -1 : 1));
}

async function tasksPage(notice) {
  const tasks = await myTasks();
  const cards = await openCards(tasks.map((t) => t.instance_id));
  const panel = h('div', { id: 'task-panel' });
  const rows = tasks.map((task) => h('tr', {
    class: 'clickable task-row', dataset: { taskId: task.id, instanceId: task.instance_id },
    onclick: (event) => {
      for (const row of view.querySelectorAll('tr.selected')) row.classList.remove('selected');
      event.currentTarget.classList.add('selected');
      panel.replaceChildren(taskForm(task));
    },
  },
  h('td', {}, task.name), h('td', {}, caseLink(task.instance_id)), h('td', {}, task.unit || '—'),
  h('td', {}, when(task.ready_at)), dueCell(task.due_at), h('td', { class: 'card-cell' }, cardBadge(cards.get(task.instance_id)))));
  view.replaceChildren(
    h('section', {}, h('h2', {}, `待办（${tasks.length}）`),
      notice ? h('div', { class: 'notice', id: 'notice' }, notice) : '',
      table(['任务', '案件', '单位', '就绪时间', '办理时限', '亮牌'], rows, '暂无待办')),
    panel);
}

function fieldInput(field) {
  const id = `field-${field.id}`;
  const attrs = { id, name: field.id, required: field.required && field.type !== 'boolean' };
  if (field.choices && field.choices.length) {
    const options = field.required ? [] : [h('option', { value: '' }, '（不填）')];
    for (const choice of field.choices) {
      const value = typeof choice === 'object' ? choice.value : choice;
      const label = typeof choice === 'object' ? (choice.label || choice.value) : choice;
      options.push(h('option', { value: JSON.stringify(value), selected: field.default === value }, label));
    }
    return h('select', attrs, options);
  }
  switch (field.type) {
    case 'boolean': return h('input', { ...attrs, type: 'checkbox', checked: field.default === true });
    case 'integer': return h('input', { ...attrs, type: 'number', step: '1', value: field.default ?? '' });
    case 'number': return h('input', { ...attrs, type: 'number', step: 'any', value: field.default ?? '' });
    case 'date': return h('input', { ...attrs, type: 'date', value: field.default ?? '' });
    case 'datetime': return h('input', { ...attrs, type: 'datetime-local', value: '' });
    default: return h('input', { ...attrs, type: 'text', value: field.default ?? '' });
  }
}

function fieldValue(field, input) {
  if (input.type === 'checkbox') return input.checked;
  if (input.value === '') return undefined;
  if (input.tagName === 'SELECT') return JSON.parse(input.value);
  if (field.type === 'integer') return Number.parseInt(input.value, 10);
  if (field.type === 'number') return Number(input.value);
  if (field.type === 'datetime') return `${input.value}:00+08:00`;
  return input.value;
}

function taskForm(task) {
  const problem = h('div', { class: 'problem', id: 'form-problem' });
  const inputs = task.form.map((field) => [field, fieldInput(field)]);
  const form = h('form', { class: 'task-form', id: 'task-form', dataset: { taskId: task.id }, novalidate: true },
    inputs.map(([field, input]) => h('div', { class: 'field' },
      h('label', { for: input.id, class: field.required ? 'required' : '' }, field.label || field.id), input)),
    task.form.length ? '' : h('p', { class: 'empty' }, '此任务无需填写表单'),
    h('button', { type: 'submit', class: 'primary' }, '提交'), problem);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = {};
    for (const [field, input] of inputs) {
      const value = fieldValue(field, input);
      if (value !== undefined) data[field.id] = value;
    }
    problem.textContent = '';
    try {
      await api(`/tasks/${encodeURIComponent(task.id)}/complete`, { method: 'POST', body: { data } });
      await tasksPage(`已提交：${task.name}`);
    } catch (error) {
      problem.textContent = problemText(error);
    }
  });
  return h('section', {}, h('h2', {}, `办理：${task.name}`),
    h('p', {}, '案件 ', caseLink(task.instance_id), '，办理时限 ', h('span', { class: isOverdue(task.due_at) ? 'overdue' : '' }, when(task.due_at))),
    form);
}

// ---- 已办 -----------------------------------------------------------------------------------------------------

async function donePage() {
  const done = await all('/done');
  const rows = done.map((task) => h('tr', { class: 'done-row' },
    h('td', {}, task.name), h('td', {}, caseLink(task.instance_id)), h('td', {}, task.unit || '—'),
    h('td', {}, when(task.ready_at)), h('td', {}, when(task.due_at)),
    h('td', { class: task.due_at && new Date(task.completed_at) > new Date(task.due_at) ? 'overdue' : '' }, when(task.completed_at))));
  view.replaceChildren(h('section', {}, h('h2', {}, `已办（${done.length}）`),
    table(['任务', '案件', '单位', '就绪时间', '办理时限', '办结时间'], rows, '暂无已办')));
}

// ---- the case page --------------------------------------------------------------------------------------------

async function casePage(id) {
  const [instance, history, xml, tasks, cards] = await Promise.all([
    api(`/instances/${encodeURIComponent(id)}`),
    api(`/instances/${encodeURIComponent(id)}/history`),
    api(`/instances/${encodeURIComponent(id)}/diagram`, { accept: 'application/xml' }),
    all('/tasks', { instance_id: id }),
    all('/cards', { instance_id: id }),
  ]);
  const diagram = h('div', { id: 'diagram' });
  const comments = history.filter((e) => e.kind === 'commented');
  const problem = h('div', { class: 'problem', id: 'comment-problem' });
  const text = h('textarea', { id: 'comment-text', rows: 2, style: 'width:100%' });
  const commentForm = h('form', { id: 'comment-form' }, text, h('button', { type: 'submit', class: 'primary' }, '添加备注'), problem);
  commentForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api(`/instances/${encodeURIComponent(id)}/comments`, { method: 'POST', body: { text: text.value } });
      await casePage(id);
    } catch (error) {
      problem.textContent = problemText(error);
    }
  });
  view.replaceChildren(
    h('section', {}, h('h2', {}, `案件 ${instance.business_key || instance.id}`),
      h('dl', { class: 'facts' },
        h('dt', {}, '流程'), h('dd', {}, instance.process_id),
        h('dt', {}, '状态'), h('dd', { id: 'case-status' }, instance.status),
        h('dt', {}, '受理时间'), h('dd', {}, when(instance.created_at)),
        h('dt', {}, '标题'), h('dd', {}, instance.data.title || '—'))),
    h('section', {}, h('h2', {}, '流程图'),
      h('div', { class: 'legend' }, h('span', { class: 'ready' }, '■ 当前办理'), h('span', { class: 'done' }, '■ 已完成')), diagram),
    h('div', { class: 'grid' },
      h('section', {}, h('h2', {}, '待办时限'),
        table(['任务', '单位', '办理时限'], tasks.map((t) => h('tr', { class: 'deadline-row' }, h('td', {}, t.name), h('td', {}, t.unit || '—'), dueCell(t.due_at))), '无待办时限')),
      h('section', {}, h('h2', {}, '亮牌'),
        table(['亮牌', '时限', '亮牌时间', '消牌时间'], cards.map((c) => h('tr', {}, h('td', {}, cardBadge(c)), h('td', {}, c.limit_name), h('td', {}, when(c.issued_at)), h('td', {}, when(c.cleared_at)))), '无亮牌'))),
    h('section', {}, h('h2', {}, `备注（${comments.length}）`),
      h('ul', { id: 'comments' }, comments.map((c) => h('li', {}, `${when(c.at)} ${c.actor || ''}：${c.after && c.after.text}`))), commentForm),
    h('section', {}, h('h2', {}, '办理历史'),
      table(['时间', '事件', '人员'], history.map((e) => h('tr', { class: 'history-row' }, h('td', {}, when(e.at)), h('td', {}, eventText(e)), h('td', {}, e.actor || '系统'))), '无记录')));
  await drawDiagram(diagram, xml, tasks, history);
}

function eventText(event) {
  const label = EVENT_LABELS[event.kind] || event.kind;
  const element = event.after && typeof event.after === 'object' ? event.after.element_id : null;
  // the element's id, replaced by its name from the diagram once drawn (drawDiagram)
  return element ? [label, '（', h('span', { class: 'element-name', dataset: { elementId: element } }, element), '）'] : label;
}

async function drawDiagram(container, xml, tasks, history) {
  if (!window.BpmnJS) {
    container.textContent = '流程图组件未加载';
    return;
  }
  const viewer = new window.BpmnJS({ container });
  await viewer.importXML(xml);
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  const ready = new Set(tasks.map((t) => t.element_id));
  for (const event of history) {
    const element = event.after && event.after.element_id;
    if ((event.kind === 'task_completed' || event.kind === 'timer_fired') && element && !ready.has(element) && registry.get(element)) {
      canvas.addMarker(element, 'ef-done');
    }
  }
  for (const element of ready) if (registry.get(element)) canvas.addMarker(element, 'ef-ready');
  for (const span of document.querySelectorAll('.element-name[data-element-id]')) {
    const shape = registry.get(span.dataset.elementId);
    if (shape && shape.businessObject.name) span.textContent = shape.businessObject.name;
  }
  canvas.zoom('fit-viewport');
  container.dataset.rendered = 'true';
}

// ---- 督查 -----------------------------------------------------------------------------------------------------

function percent(rate) {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`;
}

/** Highest first by 满意率, then 按时办结率, then 办结率 (metrics.rank's default order); no rate ranks last. */
function ranked(rows) {
  const keys = ['satisfaction_rate', 'on_time_rate', 'closure_rate'];
  const score = (row) => keys.map((k) => (row.rates[k] === null ? -1 : row.rates[k]));
  const sorted = [...rows].sort((a, b) => {
    const [x, y] = [score(a), score(b)];
    for (let i = 0; i < x.length; i += 1) if (x[i] !== y[i]) return y[i] - x[i];
    return 0;
  });
  let rank = 0;
  let previous = null;
  return sorted.map((row, index) => {
    const key = JSON.stringify(score(row));
    if (key !== previous) rank = index + 1;
    previous = key;
    return [rank, row];
  });
}

async function supervisionPage() {
  const until = new Date(now() + 86400000);
  const since = new Date(now() - 365 * 86400000);
  const params = { since: since.toISOString(), until: until.toISOString() };
  const [figures, cards, overdue] = await Promise.all([
    api(`/appraisal?${new URLSearchParams({ ...params, by: 'unit' })}`),
    all('/cards', params),
    all('/tasks', { overdue: 'true' }),
  ]);
  const rows = figures.filter((r) => r.key.unit !== undefined);
  const units = rows.map((r) => r.key.unit || '（未分派）');
  const chart = h('div', { id: 'chart' });
  const byUnit = new Map();
  for (const card of cards) {
    const unit = card.unit || '（未分派）';
    if (!byUnit.has(unit)) byUnit.set(unit, { warning: 0, yellow: 0, red: 0, open: 0 });
    const counts = byUnit.get(unit);
    counts[card.level] += 1;
    if (!card.cleared_at) counts.open += 1;
  }
  view.replaceChildren(
    h('section', {}, h('h2', {}, `三率（${when(since.toISOString()).slice(0, 10)} 至 ${when(until.toISOString()).slice(0, 10)}，按单位）`), chart),
    h('div', { class: 'grid' },
      h('section', {}, h('h2', {}, '排名'),
        table(['名次', '单位', '受理', '办结率', '按时办结率', '满意率'], ranked(rows).map(([rank, r]) => h('tr', { class: 'rank-row' },
          h('td', {}, rank), h('td', {}, r.key.unit || '（未分派）'), h('td', {}, r.counts.received),
          h('td', {}, percent(r.rates.closure_rate)), h('td', {}, percent(r.rates.on_time_rate)), h('td', {}, percent(r.rates.satisfaction_rate)))), '暂无数据')),
      h('section', {}, h('h2', {}, '亮牌（按单位）'),
        table(['单位', '预警', '黄牌', '红牌', '未消牌'], [...byUnit.entries()].map(([unit, c]) => h('tr', { class: 'card-unit-row' },
          h('td', {}, unit), h('td', {}, c.warning), h('td', {}, c.yellow), h('td', {}, c.red), h('td', {}, c.open))), '暂无亮牌'))),
    h('section', {}, h('h2', {}, `逾期未办（${overdue.length}）`),
      table(['任务', '案件', '单位', '就绪时间', '办理时限'], overdue.map((t) => h('tr', { class: 'overdue-row' },
        h('td', {}, t.name), h('td', {}, caseLink(t.instance_id)), h('td', {}, t.unit || '—'), h('td', {}, when(t.ready_at)), dueCell(t.due_at))), '暂无逾期')));
  if (!window.echarts) {
    chart.textContent = '图表组件未加载';
    return;
  }
  const plot = window.echarts.init(chart, null, { renderer: 'canvas' });
  const series = [['办结率', 'closure_rate'], ['按时办结率', 'on_time_rate'], ['满意率', 'satisfaction_rate']].map(([name, key]) => ({
    name, type: 'bar', data: rows.map((r) => (r.rates[key] === null ? null : Math.round(r.rates[key] * 1000) / 10)),
  }));
  plot.setOption({
    animation: false,
    tooltip: { trigger: 'axis', valueFormatter: (v) => (v === null ? '—' : `${v}%`) },
    legend: { data: series.map((s) => s.name) },
    xAxis: { type: 'category', data: units },
    yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
    series,
  });
  chart.dataset.rendered = 'true';
}

// ---- routing ---------------------------------------------------------------------------------------------------

async function route() {
  const hash = location.hash || '#/tasks';
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    loginPage();
    return;
  }
  try {
    if (!me) await loadMe();
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    loginPage(error.status === 401 ? '令牌无效或已过期，请重新登录' : problemText(error));
    return;
  }
  const [, page, arg] = hash.split('/');
  for (const link of document.querySelectorAll('nav a')) link.classList.toggle('active', link.dataset.page === page);
  view.replaceChildren(h('p', { class: 'empty' }, '加载中…'));
  try {
    if (page === 'login') { location.hash = '#/tasks'; return; }
    if (page === 'done') await donePage();
    else if (page === 'cases' && arg) await casePage(decodeURIComponent(arg));
    else if (page === 'supervision') await supervisionPage();
    else await tasksPage();
    document.body.dataset.page = page || 'tasks';
  } catch (error) {
    view.replaceChildren(h('section', {}, h('div', { class: 'problem', id: 'page-problem' }, problemText(error))));
  }
}

document.getElementById('sign-out').addEventListener('click', signOut);
window.addEventListener('hashchange', route);
route();
