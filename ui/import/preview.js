// Check & resolve, the input card: paste or load a list (a .txt, or a .csv
// and the column its numbers are in), preview what each line reads as (no
// network), choose whom to check among and the pace, and start the check.

import { invoke } from '../ipc.js';
import { $, cell, say } from '../dom.js';

/// The app refuses larger lists; say so before reading the file.
const MAX_BYTES = 8 * 1024 * 1024;

export class Preview {
  /// `onStarted()`: a check of the previewed list has started.
  constructor({ onStarted }) {
    this.onStarted = onStarted;
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
      summary: $('import-summary'),
      linesFrame: $('import-lines-frame'),
      lines: $('import-lines'),
    };
    this.groupsLoaded = false;
    this.previewed = null; // { text, column } the preview was made of
    this.connected = false;

    const el = this.el;
    el.text.addEventListener('input', () => this.invalidate());
    el.file.addEventListener('change', () => this.load());
    el.column.addEventListener('change', () => this.preview());
    el.preview.addEventListener('click', () => this.preview());
    el.start.addEventListener('click', () => this.start());
  }

  setConnected(connected) {
    this.connected = connected;
    this.el.start.disabled = !connected || !this.previewed;
    if (connected) this.loadGroups();
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
        number: () => line.parsed.shown,
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
      // The job's table now has every line with its answer; starting
      // again takes a new preview.
      this.previewed = null;
      this.el.linesFrame.hidden = true;
      this.onStarted();
    } catch (error) {
      say(this.el.summary, String(error), 'error');
      this.el.start.disabled = false;
    }
  }
}
