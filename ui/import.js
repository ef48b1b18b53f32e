// The "Check & resolve" tab: paste or load a list, preview what each line
// reads as (no network), start a paced check (or resolve it among one
// group's members), follow its progress, page through the answers, sort
// them, and act on them: add to contacts, block, copy, export. The job
// itself lives in the app: closing the window loses nothing.

import { invoke } from './ipc.js';
import { formatPhone } from './format.js';

const $ = (id) => document.getElementById(id);
/// The app refuses larger lists; say so before reading the file.
const MAX_BYTES = 8 * 1024 * 1024;
const PAGE = 100;
/// Results are re-read at most this often while a job runs.
const REFRESH_MS = 1000;

function say(el, text, tone = 'info') {
  el.textContent = text;
  el.dataset.tone = tone;
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

function duration(seconds) {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

/// ", 3 h ago" for a unix time in the past.
function age(seconds) {
  if (!seconds) return '';
  const ago = Math.max(0, Math.floor(Date.now() / 1000) - seconds);
  return `, ${ago < 60 ? 'just now' : `${duration(ago)} ago`}`;
}

export class ImportPanel {
  constructor() {
    this.el = {
      text: $('import-text'),
      file: $('import-file'),
      columnLabel: $('import-column-label'),
      column: $('import-column'),
      preview: $('import-preview'),
      rate: $('import-rate'),
      start: $('import-start'),
      group: $('import-group'),
      groupNote: $('import-group-note'),
      head: $('job-head'),
      addSelected: $('job-add-selected'),
      addAll: $('job-add-all'),
      copy: $('job-copy'),
      summary: $('import-summary'),
      linesFrame: $('import-lines-frame'),
      lines: $('import-lines'),
      job: $('job'),
      jobId: $('job-id'),
      jobState: $('job-state'),
      pause: $('job-pause'),
      cancel: $('job-cancel'),
      exportButton: $('job-export'),
      progress: $('job-progress'),
      jobText: $('job-text'),
      backoff: $('job-backoff'),
      message: $('job-message'),
      rows: $('job-rows'),
      prev: $('job-prev'),
      next: $('job-next'),
      page: $('job-page'),
      filter: $('job-filter'),
      jobRate: $('job-rate'),
      jobRateSet: $('job-rate-set'),
      blockSelected: $('job-block-selected'),
      blockAll: $('job-block-all'),
      undo: $('job-undo'),
      confirm: $('confirm-bulk'),
      confirmBody: $('confirm-bulk-body'),
      confirmOk: $('confirm-bulk-ok'),
      confirmCancel: $('confirm-bulk-cancel'),
    };
    /// Lines ticked in the results, across pages, with their E.164 number.
    this.selected = new Map();
    this.order = { by: 'line', desc: false };
    this.groupsLoaded = false;
    /// The last bulk block, which Undo reverses.
    this.lastBlock = null;
    this.pendingBulk = null;
    this.previewed = null; // { text, column } the preview was made of
    this.connected = false;
    this.progress = null;
    this.pageIndex = 0;
    this.lastRefresh = 0;
    this.refreshTimer = 0;

    const el = this.el;
    el.text.addEventListener('input', () => this.invalidate());
    el.file.addEventListener('change', () => this.load());
    el.column.addEventListener('change', () => this.preview());
    el.preview.addEventListener('click', () => this.preview());
    el.start.addEventListener('click', () => this.start());
    el.pause.addEventListener('click', () => this.togglePause());
    el.cancel.addEventListener('click', () => this.steer('cancel'));
    el.exportButton.addEventListener('click', () => this.exportCsv());
    el.rows.addEventListener('change', (event) => this.tick(event.target));
    el.filter.addEventListener('change', () => {
      this.pageIndex = 0;
      this.refreshRows(true);
    });
    el.jobRateSet.addEventListener('click', () => this.setRate());
    el.blockSelected.addEventListener('click', () => this.askBlock(this.selectedLines()));
    el.addSelected.addEventListener('click', () => this.addToDirectory(this.selectedLines()));
    el.addAll.addEventListener('click', () => this.addToDirectory(null));
    el.copy.addEventListener('click', () => this.copySelected());
    el.head.addEventListener('click', (event) => {
      const th = event.target.closest('th[data-sort]');
      if (th) this.sortBy(th.dataset.sort);
    });
    el.blockAll.addEventListener('click', () => this.askBlock(null));
    el.undo.addEventListener('click', () => this.undo());
    el.confirmCancel.addEventListener('click', () => el.confirm.close('cancel'));
    el.confirmOk.addEventListener('click', () => el.confirm.close('block'));
    el.confirm.addEventListener('close', () => {
      if (el.confirm.returnValue === 'block') this.block(this.pendingBulk);
      el.confirm.returnValue = '';
    });
    el.prev.addEventListener('click', () => this.turn(-1));
    el.next.addEventListener('click', () => this.turn(1));
  }

  selectedLines() {
    return [...this.selected.keys()].sort((a, b) => a - b);
  }

  /// Fills the group selector (once connected; the app answers from its
  /// saved list when offline).
  async loadGroups() {
    if (this.groupsLoaded) return;
    this.groupsLoaded = true;
    const { group, groupNote } = this.el;
    try {
      const groups = await invoke('groups');
      const keep = group.value;
      group.replaceChildren(
        new Option('everyone (ask WhatsApp)', ''),
        ...groups.map((g) => new Option(`members of ${g.subject} (${g.members})`, g.jid)),
      );
      group.value = keep;
      groupNote.hidden = true;
    } catch (error) {
      this.groupsLoaded = false;
      groupNote.textContent = String(error);
      groupNote.hidden = false;
    }
  }

  sortBy(by) {
    this.order = { by, desc: this.order.by === by ? !this.order.desc : false };
    for (const th of this.el.head.querySelectorAll('th[data-sort]')) {
      if (th.dataset.sort === by) th.setAttribute('aria-sort', this.order.desc ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    }
    this.pageIndex = 0;
    this.refreshRows(true);
  }

  async addToDirectory(lines) {
    if (!this.progress) return;
    try {
      const added = await invoke('add_to_directory', { job: this.progress.job, lines });
      const asked = lines ? `${lines.length} selected` : 'all registered';
      say(this.el.message, `Added ${added} new contact${added === 1 ? '' : 's'} to the directory (${asked}; the others were already there).`, 'ok');
    } catch (error) {
      say(this.el.message, String(error), 'error');
    }
  }

  /// Copies the selected numbers, one "+E.164" per line.
  async copySelected() {
    const text = this.selectedLines().map((line) => `+${this.selected.get(line)}`).join('\n');
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Older WebKit: copy through a hidden text area.
      const area = document.createElement('textarea');
      area.value = text;
      area.className = 'visually-hidden';
      document.body.append(area);
      area.select();
      const ok = document.execCommand('copy');
      area.remove();
      if (!ok) {
        say(this.el.message, 'The clipboard refused the numbers; use Export CSV instead.', 'error');
        return;
      }
    }
    say(this.el.message, `Copied ${this.selected.size} number${this.selected.size === 1 ? '' : 's'}.`, 'ok');
  }

  /// The text changed: the preview no longer describes it.
  invalidate() {
    this.previewed = null;
    this.el.start.disabled = true;
    this.el.columnLabel.hidden = true;
  }

  load() {
    const file = this.el.file.files[0];
    if (!file) return;
    if (file.size > MAX_BYTES) {
      say(this.el.summary, `${file.name} is ${(file.size / 1048576).toFixed(1)} MiB; at most 8 MiB can be checked at once — split it.`, 'error');
      return;
    }
    const reader = new FileReader();
    reader.onload = () => {
      this.el.text.value = String(reader.result);
      this.invalidate();
      this.preview();
    };
    reader.onerror = () => say(this.el.summary, `Cannot read ${file.name}: ${reader.error}`, 'error');
    reader.readAsText(file);
  }

  async preview() {
    const text = this.el.text.value;
    const column = this.el.columnLabel.hidden ? null : Number(this.el.column.value);
    say(this.el.summary, 'Reading the list…');
    try {
      const preview = await invoke('preview_numbers', { text, column });
      this.previewed = { text, column: preview.csv ? preview.csv.column : null };
      this.showPreview(preview);
      if (preview.numbers + preview.lids === 0) this.previewed = null;
      this.el.start.disabled = !this.connected || !this.previewed;
    } catch (error) {
      this.invalidate();
      this.el.linesFrame.hidden = true;
      say(this.el.summary, String(error), 'error');
    }
  }

  showPreview(p) {
    const { el } = this;
    if (p.csv) {
      el.column.replaceChildren(
        ...p.csv.headers.map((name, i) => new Option(name || `column ${i + 1}`, String(i), false, i === p.csv.column)),
      );
      el.columnLabel.hidden = false;
    }
    const total = p.numbers + p.lids + p.duplicates + p.invalid;
    const parts = [`${p.numbers} numbers`];
    if (p.lids) parts.push(`${p.lids} LIDs`);
    parts.push(`${p.duplicates} duplicates`, `${p.invalid} invalid`);
    say(el.summary, `${total} lines: ${parts.join(', ')}. Only the ${p.numbers + p.lids} numbers and LIDs will be checked.`, 'ok');
    el.summary.dataset.counts = JSON.stringify({ numbers: p.numbers, lids: p.lids, duplicates: p.duplicates, invalid: p.invalid });
    const rows = p.lines.map((line) => {
      const tr = document.createElement('tr');
      tr.dataset.kind = line.parsed.kind;
      const reads = {
        number: () => formatPhone(line.parsed.e164),
        lid: () => `${line.parsed.lid}@lid`,
        duplicate: () => `duplicate of line ${line.parsed.of_line}`,
        invalid: () => `invalid: ${line.parsed.reason}`,
      }[line.parsed.kind]();
      tr.append(cell(String(line.line), 'num'), cell(line.input, 'mono'), cell(reads));
      return tr;
    });
    el.lines.replaceChildren(...rows);
    el.linesFrame.hidden = rows.length === 0;
  }

  async start() {
    if (!this.previewed) return;
    const rate = Number(this.el.rate.value);
    this.el.start.disabled = true;
    try {
      const group = this.el.group.value || null;
      // The job appears through the session snapshot, like every later
      // change: the answer of an intent may be older than the last snapshot.
      await invoke('start_check', { text: this.previewed.text, column: this.previewed.column, rate, group });
      this.pageIndex = 0;
      say(this.el.message, '');
      // The job's table now has every line with its answer; starting
      // again takes a new preview.
      this.previewed = null;
      this.el.linesFrame.hidden = true;
      this.el.job.scrollIntoView({ block: 'start' });
    } catch (error) {
      say(this.el.summary, String(error), 'error');
      this.el.start.disabled = false;
    }
  }

  async steer(intent) {
    if (!this.progress) return;
    try {
      await invoke('steer_check', { job: this.progress.job, intent });
    } catch (error) {
      say(this.el.message, String(error), 'error');
    }
  }

  async setRate() {
    if (!this.progress) return;
    try {
      const rate = Number(this.el.jobRate.value);
      await invoke('set_check_rate', { job: this.progress.job, rate });
      say(this.el.message, `Pace set to ${rate} a minute.`, 'ok');
    } catch (error) {
      say(this.el.message, String(error), 'error');
    }
  }

  togglePause() {
    this.steer(this.progress?.state === 'paused' ? 'resume' : 'pause');
  }

  async exportCsv() {
    if (!this.progress) return;
    try {
      const path = await invoke('export_check', { job: this.progress.job });
      say(this.el.message, `Saved to ${path}`, 'ok');
      this.el.message.dataset.path = path;
    } catch (error) {
      say(this.el.message, String(error), 'error');
    }
  }

  tick(box) {
    if (!box.matches('input[type="checkbox"][data-line]')) return;
    const line = Number(box.dataset.line);
    if (box.checked) this.selected.set(line, box.dataset.phone);
    else this.selected.delete(line);
    this.drawBulkButtons();
  }

  drawBulkButtons() {
    const { el, progress } = this;
    const busy = Boolean(el.job.dataset.busy);
    el.blockSelected.textContent = `Block selected (${this.selected.size})`;
    el.blockSelected.disabled = busy || !this.connected || this.selected.size === 0;
    el.blockAll.textContent = `Block all registered (${progress?.on_whatsapp ?? 0})`;
    el.blockAll.disabled = busy || !this.connected || !progress?.on_whatsapp;
    el.undo.disabled = busy || !this.connected;
    el.addSelected.textContent = `Add selected to contacts (${this.selected.size})`;
    el.addSelected.disabled = busy || this.selected.size === 0;
    el.addAll.disabled = busy || !progress?.on_whatsapp;
    el.copy.textContent = `Copy selected (${this.selected.size})`;
    el.copy.disabled = this.selected.size === 0;
  }

  /// Asks before blocking: how many, and that Undo exists.
  askBlock(lines) {
    const count = lines ? lines.length : this.progress?.on_whatsapp ?? 0;
    this.pendingBulk = lines;
    const who = lines ? `the ${count} selected line${count === 1 ? '' : 's'}` : `all ${count} numbers found on WhatsApp`;
    this.el.confirmBody.textContent =
      `Block ${who}? Lines not on WhatsApp are skipped. They are blocked one by one, a few a second, ` +
      'and Undo unblocks exactly these again.';
    this.el.confirm.showModal();
    this.el.confirmCancel.focus();
  }

  async bulk(command, args, verb) {
    const { el } = this;
    el.job.dataset.busy = 'true';
    this.drawBulkButtons();
    say(el.message, `${verb}…`);
    try {
      const outcome = await invoke(command, args);
      const failed = outcome.failed ? ` ${outcome.failed} failed (${outcome.errors.map(([who, why]) => `${who}: ${why}`).join('; ')}).` : '';
      const done = outcome.kind === 'block' ? 'Blocked' : 'Unblocked';
      say(el.message, `${done} ${outcome.done}.${failed} This account now blocks ${outcome.count}.`, outcome.failed ? 'error' : 'ok');
      this.lastBlock = outcome.kind === 'block' ? outcome.action : null;
      el.undo.hidden = this.lastBlock === null;
      el.undo.textContent = `Undo (unblock ${outcome.done})`;
      this.selected.clear();
      this.refreshRows(true);
    } catch (error) {
      say(el.message, String(error), 'error');
    } finally {
      delete el.job.dataset.busy;
      this.drawBulkButtons();
    }
  }

  block(lines) {
    if (!this.progress) return;
    this.bulk('block_checked', { job: this.progress.job, lines }, 'Blocking');
  }

  undo() {
    if (this.lastBlock === null) return;
    this.bulk('undo_bulk', { action: this.lastBlock }, 'Unblocking');
  }

  turn(step) {
    const pages = Math.max(1, Math.ceil((this.filteredTotal ?? this.progress?.lines ?? 0) / PAGE));
    this.pageIndex = Math.min(pages - 1, Math.max(0, this.pageIndex + step));
    this.refreshRows(true);
  }

  /// Follows the job in the session snapshot.
  render(progress, connected) {
    this.connected = connected;
    this.el.start.disabled = !connected || !this.previewed;
    if (connected) this.loadGroups();
    if (!progress) return;
    const jobChanged = progress.job !== this.progress?.job;
    this.progress = progress;
    const { el } = this;
    el.job.hidden = false;
    el.jobId.textContent = `#${progress.job}`;
    const stateText = {
      running: connected ? 'running' : 'waiting for the connection',
      paused: 'paused',
      cancelled: 'cancelled',
      done: 'done',
    }[progress.state];
    el.jobState.textContent = stateText;
    el.jobState.dataset.state = progress.state;
    el.progress.max = Math.max(1, progress.to_check);
    el.progress.value = progress.checked;
    const parts = [
      `${progress.checked} of ${progress.to_check} checked`,
      `${progress.on_whatsapp} on WhatsApp`,
      `${progress.not_on_whatsapp} not`,
    ];
    if (progress.group) parts.unshift(`among the members of ${progress.group}`);
    if (progress.outside_group) parts.push(`${progress.outside_group} not members`);
    if (progress.known) parts.push(`${progress.known} already known`);
    if (progress.failed) parts.push(`${progress.failed} failed`);
    parts.push(`${progress.invalid} invalid, ${progress.duplicates} duplicates skipped`);
    parts.push(`${progress.rate_per_min} a minute`);
    if (progress.eta_secs) parts.push(`about ${duration(progress.eta_secs)} left`);
    el.jobText.textContent = parts.join(' · ');
    el.jobText.dataset.checked = String(progress.checked);
    const waiting = progress.backoff_until ? progress.backoff_until - Math.floor(Date.now() / 1000) : 0;
    el.backoff.hidden = waiting <= 0;
    el.backoff.textContent = waiting > 0 ? `WhatsApp asked to slow down; continuing in ${waiting} s.` : '';
    const active = progress.state === 'running' || progress.state === 'paused';
    if (jobChanged || document.activeElement !== el.jobRate) el.jobRate.value = String(progress.rate_per_min);
    el.jobRate.disabled = !active;
    el.jobRateSet.disabled = !active;
    el.pause.hidden = !active;
    el.cancel.hidden = !active;
    el.pause.textContent = progress.state === 'paused' ? 'Resume' : 'Pause';
    if (jobChanged) {
      this.selected.clear();
      this.lastBlock = null;
      el.undo.hidden = true;
    }
    this.drawBulkButtons();
    this.refreshRows(jobChanged);
  }

  /// Re-reads the page of results, at most once a second while running.
  refreshRows(now) {
    clearTimeout(this.refreshTimer);
    const wait = now ? 0 : Math.max(0, this.lastRefresh + REFRESH_MS - Date.now());
    this.refreshTimer = setTimeout(() => this.loadRows(), wait);
  }

  async loadRows() {
    const progress = this.progress;
    if (!progress) return;
    this.lastRefresh = Date.now();
    const filter = this.el.filter.value;
    try {
      const page = await invoke('check_rows', {
        job: progress.job,
        filter,
        order: this.order,
        offset: this.pageIndex * PAGE,
        limit: PAGE,
      });
      if (progress.job !== this.progress.job) return;
      this.filteredTotal = page.total;
      const pages = Math.max(1, Math.ceil(page.total / PAGE));
      this.el.page.textContent = `Page ${this.pageIndex + 1} of ${pages} · ${page.total} lines`;
      this.el.prev.disabled = this.pageIndex === 0;
      this.el.next.disabled = this.pageIndex >= pages - 1;
      this.el.rows.replaceChildren(...page.rows.map((r) => this.resultRow(r)));
    } catch (error) {
      say(this.el.message, `Cannot read the results: ${error}`, 'error');
    }
  }

  resultRow(r) {
    const tr = document.createElement('tr');
    tr.dataset.line = String(r.line);
    tr.dataset.state = r.state;
    const pick = document.createElement('td');
    if (r.on_whatsapp === true && r.phone) {
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.dataset.line = String(r.line);
      box.dataset.phone = r.phone;
      box.checked = this.selected.has(r.line);
      box.setAttribute('aria-label', `Select line ${r.line}`);
      pick.append(box);
    }
    const on = r.on_whatsapp === true ? 'yes' : r.on_whatsapp === false ? 'no' : r.state === 'pending' ? '…' : '';
    const note =
      r.kind === 'invalid'
        ? `invalid: ${r.value}`
        : r.kind === 'duplicate'
          ? `duplicate of line ${r.value}`
          : r.error ?? (r.source && r.source !== 'server' ? `from the ${r.source}${age(r.checked_at)}` : '');
    tr.append(
      pick,
      cell(String(r.line), 'num'),
      cell(r.input, 'mono'),
      cell(r.phone ? formatPhone(r.phone) : ''),
      cell(on, `on-${on}`),
      cell(r.phone && r.on_whatsapp ? `${r.phone}@s.whatsapp.net` : '', 'mono'),
      cell(r.lid ? `${r.lid}@lid` : '', 'mono'),
      cell(r.name ?? ''),
      cell(note, 'muted'),
    );
    return tr;
  }
}
