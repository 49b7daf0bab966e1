// livecut review app: the recordings list and the per-recording workspace.
// Every text from the data goes in with textContent (never innerHTML); every change is
// POSTed with the review version it was based on, and a 409 reloads the current state.
'use strict';

(function () {
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const withToken = (url) => token ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : url;
  const $ = (sel, root) => (root || document).querySelector(sel);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const hms = (s) => {
    s = Math.max(0, s);
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = (s % 60).toFixed(1);
    return (h ? h + ':' + String(m).padStart(2, '0') : String(m)) + ':' + sec.padStart(4, '0');
  };
  const status = (text, bad) => {
    const s = $('#status');
    s.textContent = text;
    s.className = bad ? 'problem' : '';
  };

  async function api(method, url, body) {
    const res = await fetch(withToken(url), {
      method,
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = { error: res.statusText }; }
    return { status: res.status, data };
  }

  // ------------------------------------------------------------------ recordings list
  async function indexPage() {
    const { status: code, data } = await api('GET', '/api/recordings');
    if (code !== 200) { status(data.error || 'cannot list recordings', true); return; }
    const body = $('#recordings tbody');
    for (const r of data.recordings) {
      const tr = el('tr');
      const a = el('a', r.name || r.key);
      a.href = withToken('/r/' + encodeURIComponent(r.key));
      const td = el('td'); td.appendChild(a); tr.appendChild(td);
      tr.appendChild(el('td', r.duration_s != null ? hms(r.duration_s) : '–'));
      for (const k of ['highlights', 'approved', 'rejected', 'added']) tr.appendChild(el('td', r[k], 'num'));
      tr.appendChild(el('td', r.error || '', r.error ? 'problem' : ''));
      body.appendChild(tr);
    }
    status(data.recordings.length + ' recordings');
  }

  // ------------------------------------------------------------------ workspace
  const key = decodeURIComponent(location.pathname.replace(/^\/r\//, ''));
  const base = '/api/recordings/' + encodeURIComponent(key);
  let state = null;

  const editor = () => $('#editor').value.trim() || undefined;

  async function load(message) {
    const { status: code, data } = await api('GET', base);
    if (code !== 200) { status(data.error || 'cannot load the recording', true); return; }
    state = data;
    render();
    if (message) status(message);
  }

  // POST a change based on the version on screen; a conflict reloads.
  async function change(url, body, done) {
    body.version = state.review.version;
    const ed = editor();
    if (ed && !('editor' in body)) body.editor = ed;
    const { status: code, data } = await api('POST', url, body);
    if (code === 200) {
      state.review = data.review;
      await load(done);
    } else if (code === 409) {
      await load('Someone saved in between: reloaded the current state; please redo the change.');
      status($('#status').textContent, true);
    } else {
      status(data.error || ('error ' + code), true);
    }
  }

  function reviewOf(rank) {
    return state.review.highlights.find((r) => r.rank === rank) || null;
  }

  // A timeline bar over [lo, hi] with a span [a, b] and two handles; snaps within 0.75 s.
  function trimmer(article, h, r) {
    const bar = $('.timeline', article);
    const region = $('.region', bar);
    const hin = $('.handle.in', bar), hout = $('.handle.out', bar);
    let a = r && r.start_s != null ? r.start_s : h.start_s;
    let b = r && r.end_s != null ? r.end_s : h.end_s;
    const lo = Math.max(0, Math.min(a, h.start_s) - 30);
    const hi = Math.min(state.duration_s, Math.max(b, h.end_s) + 30);
    bar.dataset.lo = lo; bar.dataset.hi = hi;
    const x = (t) => (100 * (t - lo) / (hi - lo)) + '%';
    const draw = () => {
      region.style.left = x(a); region.style.width = (100 * (b - a) / (hi - lo)) + '%';
      hin.style.left = x(a); hout.style.left = x(b);
      $('.span', article).textContent = hms(a) + ' – ' + hms(b) + ' (' + (b - a).toFixed(1) + ' s' +
        (a !== h.start_s || b !== h.end_s ? ', suggested ' + hms(h.start_s) + ' – ' + hms(h.end_s) : '') + ')';
    };
    const snap = (t) => {
      let best = t, d = 0.75;
      for (const s of state.snaps) if (Math.abs(s - t) < d) { d = Math.abs(s - t); best = s; }
      return Math.round(best * 1000) / 1000;
    };
    const drag = (handle, which) => {
      handle.addEventListener('pointerdown', (ev) => {
        ev.preventDefault();
        handle.setPointerCapture(ev.pointerId);
        const rect = bar.getBoundingClientRect();
        const move = (e) => {
          const t = lo + (hi - lo) * Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
          if (which === 'in') a = Math.min(snap(t), b - 1); else b = Math.max(snap(t), a + 1);
          draw();
        };
        const up = () => {
          handle.removeEventListener('pointermove', move);
          handle.removeEventListener('pointerup', up);
          const body = which === 'in' ? { start_s: a } : { end_s: b };
          change(base + '/highlights/' + h.rank, body, '#' + h.rank + ': ' + (which === 'in' ? 'in' : 'out') + ' point ' + hms(which === 'in' ? a : b));
        };
        handle.addEventListener('pointermove', move);
        handle.addEventListener('pointerup', up);
      });
    };
    drag(hin, 'in'); drag(hout, 'out');
    draw();
    return () => [a, b];
  }

  // The product on air at `t` (a stretch of products.json), or null.
  function productAt(t) {
    if (!state.products) return null;
    return state.products.stretches.find((s) => s.start_s <= t && t < s.end_s && s.sku) || null;
  }

  // The product lane: one block per stretch, placed by time; a click plays from there.
  function productLane() {
    const box = $('#products');
    const lane = $('#product-lane');
    const p = state.products;
    box.hidden = !p;
    if (!p) { lane.replaceChildren(); return; }
    const skus = p.products.map((x) => x.sku);
    lane.replaceChildren(...p.stretches.map((s) => {
      const b = el('div', s.name || s.sku || 'no product', 'stretch' + (s.sku ? '' : ' none'));
      b.dataset.sku = s.sku || '';
      b.dataset.start = s.start_s;
      b.style.left = (100 * s.start_s / state.duration_s) + '%';
      b.style.width = (100 * (s.end_s - s.start_s) / state.duration_s) + '%';
      if (s.sku) b.style.background = 'hsl(' + ((Math.max(0, skus.indexOf(s.sku)) * 67) % 360) + ', 55%, 62%)';
      b.title = (s.name || s.sku || 'no product') + ' ' + hms(s.start_s) + '–' + hms(s.end_s) +
        ' · confidence ' + s.confidence.toFixed(2) + (s.evidence.length ? ' · ' + s.evidence.join('; ') : '');
      b.addEventListener('click', () => {
        const v = $('#source');
        v.currentTime = s.start_s;
        status('source at ' + (s.name || s.sku || 'no product') + ' (' + hms(s.start_s) + ')');
      });
      return b;
    }));
  }

  function renderHighlight(h) {
    const r = reviewOf(h.rank);
    const article = $('#highlight-tpl').content.firstElementChild.cloneNode(true);
    article.id = 'h-' + h.rank;
    article.dataset.rank = h.rank;
    $('.rank', article).textContent = '#' + h.rank;
    $('.type', article).textContent = h.type;
    $('.type', article).classList.add('type-' + h.type);
    $('.when', article).textContent = hms(h.start_s) + '–' + hms(h.end_s) + ' · score ' + h.score.toFixed(2);
    const decision = r ? r.decision : 'pending';
    const d = $('.decision', article);
    d.textContent = decision + (r && r.reason ? ' (' + r.reason + ')' : '') + (r && r.editor ? ' · ' + r.editor : '');
    d.classList.add('decision-' + decision);
    article.classList.add('decision-' + decision);
    // Why: each signal's share of the score, with the weight the analysis gave it.
    const weight = (sig) => { const w = (state.weights || []).find((x) => x.signal === sig); return w ? w.weight : null; };
    $('.why', article).textContent = 'why: ' + (h.reasons || []).filter((r) => r.contribution >= 0.005).map((r) => {
      const w = weight(r.signal);
      return r.signal + ' ' + r.contribution.toFixed(2) + (w !== null ? ' (weight ' + w.toFixed(2) + ')' : '');
    }).join(', ');
    const on = productAt(h.peak_s);
    $('.product', article).textContent = on ? 'product on air: ' + (on.name || on.sku) + ' (' + on.sku + ')' : '';
    $('.said', article).textContent = h.transcript || '';
    const reason = $('.reason', article);
    if (r && r.reason) reason.value = r.reason;
    $('.approve', article).addEventListener('click', () =>
      change(base + '/highlights/' + h.rank, { decision: 'approve', reason: reason.value }, '#' + h.rank + ' approved'));
    $('.reject', article).addEventListener('click', () =>
      change(base + '/highlights/' + h.rank, { decision: 'reject', reason: reason.value }, '#' + h.rank + ' rejected'));
    const span = trimmer(article, h, r);
    $('.play', article).addEventListener('click', () => {
      const v = $('#source');
      const [a, b] = span();
      v.currentTime = a;
      const stop = () => { if (v.currentTime >= b) { v.pause(); v.removeEventListener('timeupdate', stop); } };
      v.addEventListener('timeupdate', stop);
      v.play().catch(() => {});
    });
    // Titles: the candidates, the chosen one first.
    const select = $('.candidates', article);
    const titleInput = $('.title', article);
    const chosen = r && r.title ? r.title : (h.titles[0] || '');
    const options = h.titles.includes(chosen) || !chosen ? h.titles : [chosen].concat(h.titles);
    for (const t of options) {
      const o = el('option', t); o.value = t; select.appendChild(o);
    }
    select.value = chosen;
    titleInput.value = chosen;
    select.addEventListener('change', () => { titleInput.value = select.value; });
    $('.save-title', article).addEventListener('click', () =>
      change(base + '/highlights/' + h.rank, { title: titleInput.value }, '#' + h.rank + ': title saved'));
    // Ad-law warnings of the rendered clips.
    const wl = $('.warnings', article);
    for (const w of h.warnings) {
      wl.appendChild(el('li', w.word + ' (' + w.kind + ', ' + w.where + (w.at_s != null ? ' at ' + hms(w.at_s) : '') + '): ' + w.text, 'warning'));
    }
    // Subtitle lines inside the span.
    const segs = $('.segs', article);
    const [a, b] = span();
    for (const s of state.transcript) {
      if (s.end_s <= a || s.start_s >= b) continue;
      const li = el('li', null, 'seg' + (s.edited ? ' edited' : ''));
      li.dataset.index = s.index;
      li.appendChild(el('span', hms(s.start_s) + ' ', 'at'));
      const input = el('input'); input.value = s.text; input.size = 40; li.appendChild(input);
      const save = el('button', 'Save', 'save'); save.type = 'button';
      save.addEventListener('click', () =>
        change(base + '/subtitles/' + s.index, { text: input.value }, 'subtitle at ' + hms(s.start_s) + ' saved'));
      li.appendChild(save);
      segs.appendChild(li);
    }
    if (!segs.children.length) $('.subtitles', article).hidden = true;
    // Rendered clips.
    const clips = $('.clips', article);
    for (const c of h.clips) {
      const fig = el('figure', null, 'clip');
      const v = el('video'); v.controls = true; v.preload = 'metadata'; v.src = withToken(c.href);
      if (c.vtt && !c.burned) {
        const t = el('track'); t.kind = 'subtitles'; t.src = withToken(c.vtt); t.default = true; v.appendChild(t);
      }
      fig.appendChild(v);
      fig.appendChild(el('figcaption', c.platform + ' · ' + c.duration_s.toFixed(1) + ' s' + (c.approved ? ' · approved' : '')));
      clips.appendChild(fig);
    }
    return article;
  }

  function render() {
    $('#name').textContent = state.name || state.key;
    document.title = 'livecut review · ' + (state.name || state.key);
    const v = $('#source');
    if (!v.src) v.src = withToken(state.source);
    if (state.preview) { const p = $('#preview'); p.href = withToken(state.preview); p.hidden = false; }
    const problems = [state.review_error, state.transcript_error, state.products_error].filter(Boolean);
    productLane();
    $('#problems').hidden = !problems.length;
    $('#problems').textContent = problems.join(' · ');
    const list = $('#highlights');
    list.replaceChildren(...state.highlights.map(renderHighlight));
    const added = $('#added');
    added.replaceChildren(...state.review.added.map((m) =>
      el('li', '#' + m.id + ' ' + hms(m.start_s) + '–' + hms(m.end_s) + (m.title ? ' · ' + m.title : '') + (m.editor ? ' · ' + m.editor : ''))));
    const jobs = state.jobs.map((j) => 'render ' + j.id + ': ' + j.state + (j.stage ? ' (' + j.stage + ')' : '') + (j.state === 'done' ? ', ' + j.clips + ' clips' : '') + (j.error ? ' — ' + j.error : ''));
    $('#jobs').textContent = jobs.join(' · ');
    if (state.jobs.some((j) => j.state === 'queued' || j.state === 'running')) setTimeout(() => load(), 1000);
  }

  function wholeTimeline() {
    const bar = $('#whole'), sel = $('.sel', bar);
    let start = null;
    const at = (e) => {
      const rect = bar.getBoundingClientRect();
      return state.duration_s * Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
    };
    const show = (a, b) => {
      sel.hidden = false;
      sel.style.left = (100 * a / state.duration_s) + '%';
      sel.style.width = (100 * (b - a) / state.duration_s) + '%';
      $('#add-start').value = a.toFixed(1);
      $('#add-end').value = b.toFixed(1);
    };
    bar.addEventListener('pointerdown', (e) => { if (!state) return; bar.setPointerCapture(e.pointerId); start = at(e); });
    bar.addEventListener('pointermove', (e) => { if (start !== null) { const t = at(e); show(Math.min(start, t), Math.max(start, t)); } });
    bar.addEventListener('pointerup', () => { start = null; });
    $('#add-save').addEventListener('click', () => {
      const a = parseFloat($('#add-start').value), b = parseFloat($('#add-end').value);
      if (!(b > a)) { status('select a span first (from < to)', true); return; }
      change(base + '/moments', { start_s: a, end_s: b, title: $('#add-title').value || undefined }, 'moment ' + hms(a) + '–' + hms(b) + ' added');
    });
  }

  async function workspacePage() {
    const saved = localStorage.getItem('livecut-editor');
    if (saved) $('#editor').value = saved;
    $('#editor').addEventListener('change', () => localStorage.setItem('livecut-editor', $('#editor').value));
    $('#back').href = withToken('/');
    $('#render').addEventListener('click', async () => {
      const { status: code, data } = await api('POST', base + '/render', {});
      if (code === 202) { status('render ' + data.job.id + ' queued'); load(); } else status(data.error || 'cannot render', true);
    });
    wholeTimeline();
    await load();
  }

  document.addEventListener('DOMContentLoaded', () => {
    (document.body.dataset.page === 'index' ? indexPage() : workspacePage()).catch((e) => status(String(e), true));
  });
})();
