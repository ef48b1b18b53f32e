// The marked rows of the contact list and what can be done to them at
// once: block or unblock them all (a block asks first, as the row's toggle
// does), or clear the marks. The app carries the action out paced, as one
// bulk action, and its outcome lands in the list's notice, with Undo for a
// block.

import { $, confirmation } from './dom.js';
import { invoke } from './ipc.js';
import { displayName, plural } from './format.js';
import { targetOf } from './contacts.js';

/// Names quoted in the confirmation before "and N more".
const NAMED = 3;

export class MarkedBar {
  /// `notice(text, undo)`: shows an outcome in the list's notice, with an
  /// Undo that runs `undo()` (none when null). `onDone()`: the list changed.
  constructor({ list, notice, onDone, onError }) {
    Object.assign(this, { list, notice, onDone, onError });
    this.el = {
      bar: $('list-marks'),
      count: $('list-marks-count'),
      block: $('marks-block'),
      unblock: $('marks-unblock'),
      clear: $('marks-clear'),
      title: $('confirm-marked-title'),
      body: $('confirm-marked-body'),
    };
    this.busy = false;
    this.connected = false;
    this.askToBlock = confirmation(
      { dialog: $('confirm-marked'), ok: $('confirm-marked-ok'), cancel: $('confirm-marked-cancel') },
      () => this.apply(true),
    );
    this.el.block.addEventListener('click', () => this.block());
    this.el.unblock.addEventListener('click', () => this.apply(false));
    this.el.clear.addEventListener('click', () => list.clearMarks());
  }

  setConnected(connected) {
    this.connected = connected;
    this.draw();
  }

  /// Redraws the bar for the list's marks.
  draw() {
    const { el } = this;
    const n = this.list.marked.size;
    el.bar.hidden = n === 0;
    el.count.textContent = `${plural(n, 'person', 'people')} marked`;
    for (const button of [el.block, el.unblock]) {
      button.disabled = this.busy || !this.connected;
      button.title = this.connected ? '' : 'Not connected';
    }
    el.clear.disabled = this.busy;
  }

  /// Block asks first when the operator's setting says so.
  block() {
    if (!this.list.confirmBlocks) return this.apply(true);
    const rows = [...this.list.marked.values()];
    const names = rows.slice(0, NAMED).map(displayName).join(', ');
    const more = rows.length > NAMED ? ` and ${rows.length - NAMED} more` : '';
    this.el.title.textContent = `Block ${plural(rows.length, 'person', 'people')}?`;
    this.el.body.textContent =
      `${names}${more} will not be able to call or message this account. ` +
      'Undo unblocks exactly those this blocks.';
    this.askToBlock();
  }

  async apply(block) {
    if (this.busy || !this.connected || this.list.marked.size === 0) return;
    const people = [...this.list.marked.values()].map(targetOf);
    this.busy = true;
    this.draw();
    this.notice(`${block ? 'Blocking' : 'Unblocking'} ${plural(people.length, 'person', 'people')}…`, null);
    try {
      const outcome = await invoke('set_blocked_many', { people, block });
      this.list.clearMarks();
      this.report(outcome);
    } catch (error) {
      this.notice('', null);
      this.onError(`Could not ${block ? 'block' : 'unblock'} the marked people: ${error}`);
    } finally {
      this.busy = false;
      this.draw();
      this.onDone();
    }
  }

  /// "Blocked 3 people; 1 failed (+44 …: not on WhatsApp).", with Undo for a block.
  report(outcome) {
    const verb = outcome.kind === 'block' ? 'Blocked' : 'Unblocked';
    let text = `${verb} ${plural(outcome.done, 'person', 'people')}`;
    if (outcome.failed > 0) {
      const why = outcome.errors.map(([who, reason]) => `${who}: ${reason}`).join('; ');
      text += `; ${outcome.failed} failed (${why})`;
    }
    const undo = outcome.kind === 'block' && outcome.done > 0 ? () => this.undo(outcome.action) : null;
    this.notice(`${text}.`, undo);
  }

  async undo(action) {
    this.notice('Unblocking them again…', null);
    try {
      this.report(await invoke('undo_bulk', { action }));
    } catch (error) {
      this.notice('', null);
      this.onError(`Could not undo: ${error}`);
    }
    this.onDone();
  }
}
