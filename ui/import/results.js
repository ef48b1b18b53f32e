// Check & resolve, the answers: a page of the job's lines at a time,
// filtered and sorted as the operator asks, with the lines they tick (kept
// across pages) and what can be done with them: add to contacts, block
// (after a confirmation, with Undo), add to a community or group (with
// each person's outcome in the table; `add_to_group.js`), copy, and export
// the whole job as CSV.

import { invoke } from '../ipc.js';
import { $, cell, confirmation, say, sayExported, sayWithCount } from '../dom.js';
import { ago, plural } from '../format.js';
import { AddToGroup, inviteNote } from './add_to_group.js';

const PAGE = 100;
/// Results are re-read at most this often while a job runs.
const REFRESH_MS = 1000;

export class Results {
  /// `onGroupsChanged()`: people were added to a group or removed again.
  constructor({ onGroupsChanged = () => {} } = {}) {
    this.onGroupsChanged = onGroupsChanged;
    this.el = {
      job: $('job'),
      head: $('job-head'),
      rows: $('job-rows'),
      filter: $('job-filter'),
      prev: $('job-prev'),
      next: $('job-next'),
      page: $('job-page'),
      message: $('job-message'),
      exportButton: $('job-export'),
      addSelected: $('job-add-selected'),
      addAll: $('job-add-all'),
      copy: $('job-copy'),
      blockSelected: $('job-block-selected'),
      blockAll: $('job-block-all'),
      undo: $('job-undo'),
      confirm: { dialog: $('confirm-bulk'), ok: $('confirm-bulk-ok'), cancel: $('confirm-bulk-cancel') },
      confirmBody: $('confirm-bulk-body'),
    };
    /// Lines ticked in the results, across pages, with their E.164 number.
    this.selected = new Map();
    this.order = { by: 'line', desc: false };
    /// The last bulk block, which Undo reverses.
    this.lastBlock = null;
    this.pendingBulk = null;
    this.connected = false;
    this.progress = null;
    this.pageIndex = 0;
    /// How many lines the filter lets through, as the last page read said.
    this.filteredTotal = null;
    this.lastRefresh = 0;
    this.refreshTimer = 0;

    this.addToGroup = new AddToGroup(this);
    const el = this.el;
    this.confirmBlock = confirmation(el.confirm, () => this.block(this.pendingBulk));
    el.exportButton.addEventListener('click', () => this.exportCsv());
    el.rows.addEventListener('change', (event) => this.tick(event.target));
    el.filter.addEventListener('change', () => {
      this.pageIndex = 0;
      this.refreshRows(true);
    });
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
    el.prev.addEventListener('click', () => this.turn(-1));
    el.next.addEventListener('click', () => this.turn(1));
  }

  setConnected(connected) {
    this.connected = connected;
  }

  /// A new check started: show its first page, with no message of the last one.
  restart() {
    this.pageIndex = 0;
    say(this.el.message, '');
  }

  /// Follows the job of the session snapshot; `jobChanged` when it is another job.
  render(progress, jobChanged) {
    this.progress = progress;
    if (jobChanged) {
      this.selected.clear();
      this.lastBlock = null;
      this.el.undo.hidden = true;
      this.addToGroup.reset();
    }
    this.drawBulkButtons();
    this.refreshRows(jobChanged);
  }

  selectedLines() {
    return [...this.selected.keys()].sort((a, b) => a - b);
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
      say(this.el.message, `Added ${plural(added, 'new contact')} to the directory (${asked}; the others were already there).`, 'ok');
    } catch (error) {
      say(this.el.message, String(error), 'error');
    }
  }

  /// Copies the selected numbers, one "+E.164" per line.
  copySelected() {
    const text = this.selectedLines().map((line) => `+${this.selected.get(line)}`).join('\n');
    return this.copyText(text, `Copied ${plural(this.selected.size, 'number')}.`);
  }

  /// Puts `text` on the clipboard and says `done`.
  async copyText(text, done) {
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
    say(this.el.message, done, 'ok');
  }

  exportCsv() {
    if (!this.progress) return;
    return sayExported(this.el.message, invoke('export_check', { job: this.progress.job }));
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
    const busy = Boolean(el.job.dataset.busy) || this.addToGroup.isBusy();
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
    this.addToGroup.draw(busy, this.connected, Boolean(progress?.checked));
  }

  /// Asks before blocking: how many, and that Undo exists.
  askBlock(lines) {
    const count = lines ? lines.length : this.progress?.on_whatsapp ?? 0;
    this.pendingBulk = lines;
    const who = lines ? `the ${plural(count, 'selected line')}` : `all ${count} numbers found on WhatsApp`;
    this.el.confirmBody.textContent =
      `Block ${who}? Lines not on WhatsApp are skipped. They are blocked one by one, a few a second, ` +
      'and Undo unblocks exactly these again.';
    this.confirmBlock();
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
      const text = `${done} ${outcome.done}.${failed} This account now blocks ${outcome.count}.`;
      sayWithCount(el.message, text, outcome.failed ? 'error' : 'ok', outcome.count);
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
          : r.error ?? (r.source && r.source !== 'server' ? `from the ${r.source}${r.checked_at ? `, ${ago(r.checked_at)}` : ''}` : '');
    tr.append(
      pick,
      cell(String(r.line), 'num'),
      cell(r.input, 'mono'),
      cell(r.phone_shown ?? ''),
      cell(on, `on-${on}`),
      cell(r.phone && r.on_whatsapp ? `${r.phone}@s.whatsapp.net` : '', 'mono'),
      cell(r.lid ? `${r.lid}@lid` : '', 'mono'),
      cell(r.name ?? ''),
      this.noteCell(r.line, note),
    );
    return tr;
  }

  /// The line's note, with what adding them to a group did (and, when their
  /// privacy asked for an invite, until when WhatsApp holds it).
  noteCell(line, note) {
    const td = cell(note, 'muted');
    const added = this.addToGroup.noteFor(line);
    if (!added) return td;
    const span = document.createElement('span');
    span.className = 'add-outcome';
    span.dataset.outcome = added.item.outcome;
    if (added.item.code !== null) span.dataset.code = String(added.item.code);
    span.textContent = added.text;
    td.append(span);
    if (added.item.invite_code && added.item.invite_expiration) {
      // A private invite for this person, sent to them in a chat (not a
      // chat.whatsapp.com link, which is the group's own).
      td.append(inviteNote(added.item, (item) => this.addToGroup.sendInvite(item)));
    }
    return td;
  }
}
