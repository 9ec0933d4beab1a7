// @ts-check
/**
 * The report's page script (inlined into the HTML by report/render.ts; runs in the browser).
 * Every value from the logs goes into the page as text (textContent, attribute values), never
 * as HTML. Long lists render in pages so 100,000 events stay fast.
 */
(() => {
  'use strict';

  /** @typedef {'info' | 'low' | 'medium' | 'high' | 'critical'} Risk */
  /** @typedef {{ id: string, principal: string | null, principalType: string | null, account: string | null, sourceIps: string[], places: string[], mfa: boolean | null, login: string | null, start: string, end: string, eventCount: number, signalCount: number, unmappedCount: number, risk: Risk, services: string[], summary: string, unmapped: number[] }} Session */
  /** @typedef {{ id: string, session: number, start: string, end: string, label: string, name: string, breadcrumb: string | null, summary: string, url: string | null, service: string, risk: Risk, background: boolean, generic: boolean, events: number[] }} Signal */
  /** @typedef {{ id: string, rule: string, title: string, risk: Risk, attack: string[], time: string, principal: string | null, sourceIp: string | null, country: string | null, account: string | null, region: string | null, summary: string, session: number, events: number[] }} Detection */
  /** @typedef {{ title: string, generatedAt: string, inputs: string[], filters: string[], otherEventCount: number, sessions: Session[], signals: Signal[], detections: Detection[], events: [string, string, string][] }} Report */

  const RISKS = ['info', 'low', 'medium', 'high', 'critical'];
  const PAGE = 200;
  const dataNode = document.getElementById('report-data');
  /** @type {Report} */
  const data = JSON.parse(dataNode ? dataNode.textContent || '{}' : '{}');
  const rawNode = document.getElementById('report-raw');
  /** @type {{ block: number, blocks: string[] } | null} */
  const rawIndex = rawNode && rawNode.textContent ? JSON.parse(rawNode.textContent) : null;
  /** @type {Map<number, Promise<Record<string, unknown>[]>>} */
  const rawBlocks = new Map();

  /**
   * The raw record of event `index`: its block is decompressed (gzip, base64) the first time.
   * @param {number} index
   * @returns {Promise<Record<string, unknown> | null>}
   */
  async function rawRecord(index) {
    if (!rawIndex) return null;
    const number = Math.floor(index / rawIndex.block);
    let block = rawBlocks.get(number);
    if (!block) {
      const bytes = Uint8Array.from(atob(rawIndex.blocks[number]), (c) => c.charCodeAt(0));
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
      block = new Response(stream).text().then((text) => JSON.parse(text));
      rawBlocks.set(number, block);
    }
    return (await block)[index % rawIndex.block] || null;
  }

  /**
   * Builds an element; string children become text nodes, so log values are never parsed as HTML.
   * @param {string} tag
   * @param {Record<string, string | boolean | undefined | ((event: Event) => void)>} [attributes]
   * @param {...(Node | string | number | null | undefined | false)} children
   * @returns {HTMLElement}
   */
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined || value === false) continue;
      if (typeof value === 'function') node.addEventListener(name.replace(/^on/, ''), value);
      else if (name === 'class') node.className = String(value);
      else node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === 'object' ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** @param {Risk} risk */
  const badge = (risk) => el('span', { class: `badge ${risk}`, title: `risk: ${risk}` }, risk);
  /** @param {string} iso */
  const shortTime = (iso) => iso.replace('T', ' ').replace('Z', '');
  const rank = (/** @type {string} */ risk) => RISKS.indexOf(risk);

  // ---- state and filters
  const state = {
    search: '',
    minRisk: 'info',
    service: '',
    principal: '',
    background: false,
    /** @type {number} */
    session: -1,
  };
  /** @type {Map<number, Signal[]>} */
  const signalsBySession = new Map();
  for (const signal of data.signals) {
    const list = signalsBySession.get(signal.session) || [];
    list.push(signal);
    signalsBySession.set(signal.session, list);
  }
  /** @param {Signal} s */
  const signalText = (s) =>
    `${s.summary}\n${s.label}\n${s.name}\n${s.breadcrumb || ''}\n${s.service}`.toLowerCase();
  /** @param {Session} s */
  const sessionText = (s) =>
    `${s.principal || ''}\n${s.account || ''}\n${s.sourceIps.join(' ')}\n${s.places.join(' ')}\n${s.summary}`.toLowerCase();
  /** @param {Detection} d */
  const detectionText = (d) =>
    `${d.title}\n${d.summary}\n${d.rule}\n${d.principal || ''}\n${d.sourceIp || ''}\n${d.country || ''}\n${d.attack.join(' ')}`.toLowerCase();

  /** @param {Signal} s */
  function signalPasses(s) {
    if (s.background && !state.background) return false;
    if (rank(s.risk) < rank(state.minRisk)) return false;
    if (state.service && s.service !== state.service) return false;
    if (state.search && !signalText(s).includes(state.search)) return false;
    return true;
  }
  /** @param {Session} s @param {number} i */
  function sessionPasses(s, i) {
    if (state.principal && s.principal !== state.principal) return false;
    if (rank(s.risk) < rank(state.minRisk)) return false;
    if (state.service && !(signalsBySession.get(i) || []).some((x) => x.service === state.service))
      return false;
    if (state.search && !sessionText(s).includes(state.search)) {
      return (signalsBySession.get(i) || []).some(signalPasses);
    }
    return true;
  }
  /** @param {Detection} d */
  function detectionPasses(d) {
    if (rank(d.risk) < rank(state.minRisk)) return false;
    if (state.principal && d.principal !== state.principal) return false;
    if (state.service) {
      const refs = d.events.map((i) => data.events[i][1].split(':')[0].toLowerCase());
      if (!refs.includes(state.service.toLowerCase())) return false;
    }
    if (state.search && !detectionText(d).includes(state.search)) return false;
    return true;
  }

  // ---- events (expandable to raw records)
  /** @param {number[]} indexes */
  function eventList(indexes) {
    const list = el('ul', { class: 'events' });
    let shown = 0;
    const more = el('button', { class: 'more', type: 'button', onclick: () => page() }, 'Show more events');
    function page() {
      for (const index of indexes.slice(shown, shown + PAGE)) list.insertBefore(eventItem(index), more);
      shown = Math.min(indexes.length, shown + PAGE);
      if (shown >= indexes.length) more.remove();
    }
    list.append(more);
    page();
    return list;
  }
  /** @param {number} index */
  function eventItem(index) {
    const [time, ref, id] = data.events[index];
    const item = el('li', { class: 'event', 'data-event-id': id });
    let pre = /** @type {HTMLElement | null} */ (null);
    const toggle = el(
      'button',
      {
        class: 'raw',
        type: 'button',
        onclick: async () => {
          if (pre) {
            pre.remove();
            pre = null;
            return;
          }
          const record = await rawRecord(index);
          pre = el(
            'pre',
            { class: 'raw' },
            record
              ? JSON.stringify(record, null, 2)
              : 'The raw record is not in this report (built from a dataset).',
          );
          item.append(pre);
        },
      },
      'raw',
    );
    item.append(`${shortTime(time)}  ${ref}  `, el('span', { class: 'label' }, id), ' ', toggle);
    return item;
  }
  /** A button that shows or hides the events of a signal, detection or session. @param {number[]} indexes @param {string} noun */
  function eventsToggle(indexes, noun) {
    const holder = el('div');
    /** @type {HTMLElement | null} */
    let list = null;
    const button = el(
      'button',
      {
        class: 'events',
        type: 'button',
        'aria-expanded': 'false',
        onclick: () => {
          if (list) {
            list.remove();
            list = null;
            button.setAttribute('aria-expanded', 'false');
          } else {
            list = eventList(indexes);
            holder.append(list);
            button.setAttribute('aria-expanded', 'true');
          }
        },
      },
      `${indexes.length} ${noun}${indexes.length === 1 ? '' : 's'}`,
    );
    holder.append(button);
    return holder;
  }

  // ---- chart: events per time bin over the selected session (or everything), risky bins in red
  function renderChart() {
    const host = /** @type {HTMLElement} */ (document.getElementById('chart'));
    host.replaceChildren();
    const session = state.session >= 0 ? data.sessions[state.session] : null;
    /** @type {number[]} */
    const times = [];
    if (session) {
      for (const s of signalsBySession.get(state.session) || [])
        for (const i of s.events) times.push(Date.parse(data.events[i][0]));
      for (const i of session.unmapped) times.push(Date.parse(data.events[i][0]));
    } else {
      for (const e of data.events) times.push(Date.parse(e[0]));
    }
    if (times.length === 0) {
      host.append(el('p', { class: 'empty' }, 'No events.'));
      return;
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of times) {
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    const bins = 60;
    const width = Math.max(1, hi - lo) / bins;
    const counts = new Array(bins).fill(0);
    for (const t of times) counts[Math.min(bins - 1, Math.floor((t - lo) / width))]++;
    const risky = new Array(bins).fill(false);
    for (const s of data.signals) {
      if (s.background || rank(s.risk) < rank('medium') || (session && s.session !== state.session)) continue;
      const t = Date.parse(s.start);
      if (t >= lo && t <= hi) risky[Math.min(bins - 1, Math.floor((t - lo) / width))] = true;
    }
    const peak = counts.reduce((max, n) => (n > max ? n : max), 0);
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'chart');
    svg.setAttribute('viewBox', `0 0 ${bins * 10} 120`);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', `Events over time: ${times.length} events, peak ${peak} per bin`);
    counts.forEach((count, i) => {
      const h = peak ? Math.max(risky[i] ? 12 : count ? 2 : 0, (count / peak) * 100) : 0;
      const bar = document.createElementNS(ns, 'rect');
      bar.setAttribute('class', risky[i] ? 'bar risky' : 'bar');
      bar.setAttribute('x', String(i * 10 + 1));
      bar.setAttribute('y', String(104 - h));
      bar.setAttribute('width', '8');
      bar.setAttribute('height', String(h));
      const title = document.createElementNS(ns, 'title');
      title.textContent = `${new Date(lo + i * width).toISOString()}: ${count} events${risky[i] ? ', risky action' : ''}`;
      bar.append(title);
      svg.append(bar);
    });
    for (const [x, t, anchor] of /** @type {[number, number, string][]} */ ([
      [2, lo, 'start'],
      [bins * 10 - 2, hi, 'end'],
    ])) {
      const label = document.createElementNS(ns, 'text');
      label.setAttribute('x', String(x));
      label.setAttribute('y', '117');
      label.setAttribute('text-anchor', anchor);
      label.textContent = shortTime(new Date(t).toISOString().replace('.000Z', 'Z'));
      svg.append(label);
    }
    host.append(svg);
  }

  // ---- sessions table
  function renderSessions() {
    const body = /** @type {HTMLElement} */ (document.getElementById('sessions-body'));
    body.replaceChildren();
    const visible = data.sessions
      .map((s, i) => /** @type {[Session, number]} */ ([s, i]))
      .filter(([s, i]) => sessionPasses(s, i));
    /** @type {HTMLElement} */ (document.getElementById('sessions-count')).textContent =
      `${visible.length} of ${data.sessions.length}`;
    if (visible.length === 0) {
      body.append(
        el('tr', {}, el('td', { colspan: '6', class: 'empty' }, 'No session matches the filters.')),
      );
      return;
    }
    let shown = 0;
    const moreRow = el(
      'tr',
      {},
      el(
        'td',
        { colspan: '6' },
        el('button', { class: 'more', type: 'button', onclick: () => page() }, 'Show more sessions'),
      ),
    );
    function page() {
      for (const [s, i] of visible.slice(shown, shown + PAGE)) {
        const row = el(
          'tr',
          {
            class: `session${i === state.session ? ' selected' : ''}`,
            'data-session': String(i),
            tabindex: '0',
            onclick: () => select(i),
            onkeydown: (event) => {
              if (/** @type {KeyboardEvent} */ (event).key === 'Enter') select(i);
            },
          },
          el(
            'td',
            { class: 'principal' },
            s.principal || '(unknown principal)',
            el('div', { class: 'meta' }, s.account || ''),
          ),
          el(
            'td',
            {},
            s.sourceIps.join(', '),
            s.places.length ? el('div', { class: 'meta' }, s.places.join(', ')) : null,
          ),
          el(
            'td',
            { class: s.mfa === false ? 'mfa-no' : '' },
            s.mfa === true ? 'yes' : s.mfa === false ? 'no' : '?',
            s.login ? el('div', { class: 'meta' }, `sign-in ${s.login}`) : null,
          ),
          el('td', { class: 'when' }, shortTime(s.start), el('br'), shortTime(s.end)),
          el(
            'td',
            {},
            `${s.signalCount} actions`,
            el('div', { class: 'meta' }, `${s.eventCount} events, ${s.unmappedCount} unmapped`),
          ),
          el('td', {}, badge(s.risk)),
        );
        body.insertBefore(row, moreRow);
      }
      shown = Math.min(visible.length, shown + PAGE);
      if (shown >= visible.length) moreRow.remove();
    }
    body.append(moreRow);
    page();
  }

  // ---- one session: timeline of signals, unmapped events
  function renderTimeline() {
    const host = /** @type {HTMLElement} */ (document.getElementById('timeline'));
    host.replaceChildren();
    const session = data.sessions[state.session];
    if (!session) {
      host.append(el('p', { class: 'empty' }, 'Select a session.'));
      return;
    }
    host.append(
      el('h2', {}, session.principal || '(unknown principal)'),
      el('p', { class: 'summary' }, session.summary),
      el('p', { class: 'meta' }, `Services: ${session.services.join(', ') || 'none'}`),
    );
    const signals = (signalsBySession.get(state.session) || []).filter(signalPasses);
    const list = el('ol', { class: 'timeline', id: 'signals' });
    if (signals.length === 0) list.append(el('li', { class: 'empty' }, 'No action matches the filters.'));
    let shown = 0;
    const more = el(
      'li',
      {},
      el('button', { class: 'more', type: 'button', onclick: () => page() }, 'Show more actions'),
    );
    function page() {
      for (const s of signals.slice(shown, shown + PAGE)) list.insertBefore(signalItem(s), more);
      shown = Math.min(signals.length, shown + PAGE);
      if (shown >= signals.length) more.remove();
    }
    list.append(more);
    page();
    host.append(list);
    const unmapped = el(
      'div',
      { id: 'unmapped' },
      el('h2', {}, `Events no specific rule explains (${session.unmapped.length})`),
    );
    unmapped.append(
      session.unmapped.length
        ? eventsToggle(session.unmapped, 'event')
        : el('p', { class: 'empty' }, 'Every event of this session is explained by a recognised action.'),
    );
    host.append(unmapped);
  }
  /** @param {Signal} s */
  function signalItem(s) {
    const safeUrl = s.url && /^https:\/\//i.test(s.url) ? s.url : null;
    return el(
      'li',
      {
        class: `signal risk-${s.risk}${s.background ? ' background' : ''}${s.generic ? ' generic' : ''}`,
        'data-signal-id': s.id,
      },
      el(
        'div',
        { class: 'when' },
        shortTime(s.start),
        ' ',
        badge(s.risk),
        ' ',
        s.service,
        s.generic
          ? el('span', { class: 'kind', title: 'No rule recognises this call: shown as it is' }, 'generic')
          : null,
      ),
      s.breadcrumb ? el('div', { class: 'crumb' }, s.breadcrumb) : null,
      el('div', { class: 'summary' }, s.summary),
      el(
        'div',
        { class: 'label' },
        s.label,
        safeUrl
          ? el(
              'a',
              { class: 'console', href: safeUrl, target: '_blank', rel: 'noopener noreferrer' },
              'open in console',
            )
          : null,
      ),
      eventsToggle(s.events, 'event'),
    );
  }

  // ---- detections
  function renderDetections() {
    const host = /** @type {HTMLElement} */ (document.getElementById('detections-list'));
    host.replaceChildren();
    const visible = data.detections.filter(detectionPasses);
    /** @type {HTMLElement} */ (document.getElementById('detections-count')).textContent =
      `${visible.length} of ${data.detections.length}`;
    if (visible.length === 0) {
      host.append(el('p', { class: 'empty' }, 'No detection matches the filters.'));
      return;
    }
    const list = el('ol', { class: 'timeline' });
    let shown = 0;
    const more = el(
      'li',
      {},
      el('button', { class: 'more', type: 'button', onclick: () => page() }, 'Show more detections'),
    );
    function page() {
      for (const d of visible.slice(shown, shown + PAGE)) {
        list.insertBefore(
          el(
            'li',
            { class: `signal detection risk-${d.risk}`, 'data-detection-id': d.id },
            el('div', { class: 'when' }, shortTime(d.time), ' ', badge(d.risk), ' ', d.title),
            el('div', { class: 'summary' }, d.summary),
            el(
              'div',
              { class: 'meta' },
              [
                d.principal,
                d.sourceIp && `${d.sourceIp}${d.country ? ` (${d.country})` : ''}`,
                d.account,
                d.region,
              ]
                .filter(Boolean)
                .join(' · '),
            ),
            el('div', { class: 'attack' }, `${d.rule}  ATT&CK ${d.attack.join(', ')}`),
            eventsToggle(d.events, 'event'),
          ),
          more,
        );
      }
      shown = Math.min(visible.length, shown + PAGE);
      if (shown >= visible.length) more.remove();
    }
    list.append(more);
    page();
    host.append(list);
  }

  /** @param {number} index */
  function select(index) {
    state.session = index;
    for (const row of document.querySelectorAll('tr.session')) {
      row.classList.toggle('selected', row.getAttribute('data-session') === String(index));
    }
    renderTimeline();
    renderChart();
  }

  function renderAll() {
    renderSessions();
    renderTimeline();
    renderDetections();
    renderChart();
  }

  // ---- header and controls
  function setup() {
    document.title = data.title;
    /** @type {HTMLElement} */ (document.getElementById('title')).textContent = data.title;
    /** @type {HTMLElement} */ (document.getElementById('meta')).textContent =
      `Generated ${data.generatedAt} from ${data.inputs.join(', ') || '(no inputs)'}` +
      (data.filters.length ? ` · filters: ${data.filters.join(' ')}` : '');
    const unmapped = data.sessions.reduce((n, s) => n + s.unmappedCount, 0);
    const counts = /** @type {HTMLElement} */ (document.getElementById('counts'));
    for (const [value, name] of /** @type {[number, string][]} */ ([
      [data.events.length, 'events'],
      [data.sessions.length, 'console sessions'],
      [data.signals.filter((s) => !s.background && !s.generic).length, 'actions'],
      [data.signals.filter((s) => s.generic).length, 'generic signals'],
      [unmapped, 'events without a specific rule'],
      [data.detections.length, 'detections'],
      [data.otherEventCount, 'programmatic events'],
    ])) {
      counts.append(el('div', {}, el('b', {}, value.toLocaleString('en-US')), name));
    }
    const services = /** @type {HTMLSelectElement} */ (document.getElementById('filter-service'));
    for (const service of [...new Set(data.signals.map((s) => s.service))].sort())
      services.append(el('option', { value: service }, service));
    const principals = /** @type {HTMLSelectElement} */ (document.getElementById('filter-principal'));
    for (const principal of [...new Set(data.sessions.map((s) => s.principal).filter(Boolean))].sort()) {
      principals.append(
        el('option', { value: /** @type {string} */ (principal) }, /** @type {string} */ (principal)),
      );
    }
    /** @param {string} id @param {(value: string) => void} apply */
    const bind = (id, apply) => {
      const input = /** @type {HTMLInputElement} */ (document.getElementById(id));
      input.addEventListener(input.type === 'search' ? 'input' : 'change', () => {
        apply(input.type === 'checkbox' ? String(input.checked) : input.value);
        renderAll();
      });
    };
    bind('filter-search', (v) => (state.search = v.trim().toLowerCase()));
    bind('filter-risk', (v) => (state.minRisk = v));
    bind('filter-service', (v) => (state.service = v));
    bind('filter-principal', (v) => (state.principal = v));
    bind('filter-background', (v) => (state.background = v === 'true'));
    // Start on the riskiest session, the one a responder opens first.
    let best = -1;
    data.sessions.forEach((s, i) => {
      if (best < 0 || rank(s.risk) > rank(data.sessions[best].risk)) best = i;
    });
    state.session = best;
    renderAll();
    document.body.setAttribute('data-ready', 'true');
  }

  setup();
})();
