// The contact list: virtualised (only the rows in view exist in the DOM),
// paged from the app's index, with lazily loaded pictures and optimistic
// block toggles that roll back when the server refuses. The list is one Tab
// stop: the selected row has tabindex 0, the others -1 (roving focus); the
// keys that move it are read in keys.js, which calls the methods below.
// Rows can also be marked (their checkbox, Space, Ctrl+click, Shift+click,
// Ctrl+A) for a bulk block or unblock; marks outlive searches and filters.

import { confirmation } from './dom.js';
import { invoke } from './ipc.js';
import { ONLY_LID, displayName, initial, plural } from './format.js';

const ROW_HEIGHT = 56;
const PAGE_SIZE = 100;
/// Rows drawn beyond each edge of the view, so fast scrolling shows no gaps.
const OVERSCAN = 8;
/// Pictures asked for at once (the app bounds its own fetches too).
const PICTURE_REQUESTS = 4;
/// A row's picture is asked for once the row has stayed in view this long:
/// a fast scroll asks for nothing on the rows it flies past.
const PICTURE_DWELL_MS = 100;
/// Typing pauses this long before the list searches.
const SEARCH_DELAY_MS = 120;
/// The most people one bulk action takes (the app's own limit).
export const MAX_MARKED = 10000;
/// Rows asked for at once when marking every match.
const MARK_PAGE = 500;

/// How the app names a row's person when blocking: the number, else the LID.
export const targetOf = (row) => (row.phone ? `+${row.phone}` : `${row.lid}@lid`);
export const keyOf = (row) => row.phone || `${row.lid}@lid`;

export class ContactList {
  /// `onSelect(row)`: the operator picked a row. `onChange()`: rows or their
  /// block state changed (the detail panel re-reads its row). `onError(text)`.
  /// `onMarks(marked)`: the marked rows changed (a Map key → row).
  constructor({ scroller, rows, empty, count, confirm, onSelect, onChange, onError, onBlocked, onMarks }) {
    Object.assign(this, { scroller, rowsEl: rows, emptyEl: empty, countEl: count, onSelect, onChange, onError, onBlocked, onMarks });
    /// key → row: the people marked for a bulk action.
    this.marked = new Map();
    /// Whether a block from the list asks first (the operator's setting).
    this.confirmBlocks = true;
    this.confirmText = { title: confirm.title, body: confirm.body };
    this.askToBlock = confirmation(confirm, () => this.pendingBlock && this.setBlocked(this.pendingBlock, true));
    this.pendingBlock = null;
    this.query = '';
    this.filter = 'all';
    this.total = 0;
    this.loaded = false;
    this.generation = 0;
    /// Set once the first rows are drawn (see `draw`).
    this.painted = false;
    this.pages = new Map();
    /// page → the directory version its rows hold every change up to
    this.versions = new Map();
    /// The newest directory version the app announced: older pages are
    /// shown until their replacements arrive, and asked again.
    this.wanted = -1;
    /// The previous generation's pages, shown until their replacements arrive.
    this.fallback = new Map();
    /// page → the promise of its answer
    this.loading = new Map();
    this.selected = null;
    this.selectedIndex = -1;
    this.connected = false;
    /// key → { blocked, pending }: what the operator asked, until the list catches up.
    this.overrides = new Map();
    /// phone → { picture, picture_state } | 'loading'
    this.avatars = new Map();
    /// phone → when its row came into view, for rows whose picture is not asked for yet
    this.inView = new Map();
    this.dwellTimer = 0;
    this.avatarsInFlight = 0;
    this.frame = 0;
    this.searchTimer = 0;

    scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(scroller);
    rows.addEventListener('click', (event) => this.onClick(event));
    rows.addEventListener('focusin', (event) => this.onFocus(event));
    /// The index the keyboard moved to, until its row is drawn and focused.
    this.pendingFocus = -1;
  }

  setConnected(connected) {
    if (connected === this.connected) return;
    this.connected = connected;
    // Pictures that could not be fetched offline are worth asking again.
    if (connected) {
      for (const [phone, avatar] of this.avatars) {
        if (avatar !== 'loading' && avatar.picture_state === 'unknown') this.avatars.delete(phone);
      }
    }
    this.schedule();
  }

  search(query) {
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => {
      if (query === this.query) return;
      this.query = query;
      this.scroller.scrollTop = 0;
      this.reload({ keepRows: false });
    }, SEARCH_DELAY_MS);
  }

  setFilter(filter) {
    if (filter === this.filter) return;
    this.filter = filter;
    this.scroller.scrollTop = 0;
    this.reload({ keepRows: false });
  }

  /// Fetches the rows in view again (the directory or blocklist changed).
  /// With `keepRows`, the old rows stay on screen until the new ones arrive.
  reload({ keepRows = true } = {}) {
    this.generation += 1;
    // Pages still awaited from an earlier reload stay shown too.
    this.fallback = keepRows ? new Map([...this.fallback, ...this.pages]) : new Map();
    this.pages = new Map();
    this.versions.clear();
    this.loading.clear();
    this.schedule();
  }

  /// The app's directory changed (to `version`): the pages older than that
  /// are asked again, shown until their replacements arrive. Pages already
  /// as new, and pages on their way, are kept (an answer read before the
  /// change is asked again when it comes).
  directoryChanged(version) {
    if (version <= this.wanted) return;
    this.wanted = version;
    for (const [page, rows] of this.pages) {
      if (this.versions.get(page) >= version) continue;
      this.fallback.set(page, rows);
      this.pages.delete(page);
      this.versions.delete(page);
    }
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  row(index) {
    const page = Math.floor(index / PAGE_SIZE);
    const rows = this.pages.get(page) ?? this.fallback.get(page);
    return rows?.[index - page * PAGE_SIZE];
  }

  /// The row with this key among the loaded ones.
  find(key) {
    for (const rows of [...this.pages.values(), ...this.fallback.values()]) {
      const row = rows.find((r) => keyOf(r) === key);
      if (row) return row;
    }
    return null;
  }

  blockedState(row) {
    const override = this.overrides.get(keyOf(row));
    return override ? override : { blocked: row.blocked, pending: false };
  }

  visibleRange() {
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const shown = Math.ceil(this.scroller.clientHeight / ROW_HEIGHT) + 2 * OVERSCAN;
    const last = Math.min(this.loaded ? this.total : PAGE_SIZE, first + shown) - 1;
    return [first, last];
  }

  draw() {
    const [first, last] = this.visibleRange();
    for (let page = Math.floor(first / PAGE_SIZE); page <= Math.floor(Math.max(first, last) / PAGE_SIZE); page++) {
      this.load(page);
    }
    this.rowsEl.style.height = `${this.total * ROW_HEIGHT}px`;
    // Each person keeps their row element while in view; only what changed
    // in it is updated, so a click never lands on a node that was replaced.
    const existing = new Map();
    for (const el of this.rowsEl.children) existing.set(el.dataset.key, el);
    for (let i = first; i <= last; i++) {
      const row = this.row(i);
      if (!row) continue;
      const key = keyOf(row);
      let el = existing.get(key);
      existing.delete(key);
      if (!el) {
        el = this.rowElement();
        this.rowsEl.append(el);
      }
      this.fillRow(el, row, i);
    }
    for (const el of existing.values()) {
      // The focused row went (its page is being fetched again): focus it once back.
      if (el.contains(document.activeElement) && this.pendingFocus < 0) this.pendingFocus = this.selectedIndex;
      el.remove();
    }
    this.drawTabStop();
    this.drawCount();
    this.settleFocus();
    this.watchPictures();
    if (!this.painted && this.rowsEl.children.length > 0 && this.scroller.clientHeight > 0) {
      // The first frame with people in it has been drawn by the next frame
      // (the start-up bench reads this mark, and the connection state then).
      this.painted = true;
      performance.mark('roster:list-drawn');
      requestAnimationFrame(() => performance.mark('roster:list-painted', { detail: document.body.dataset.state }));
    }
  }

  /// Notes which rows in view (not the overscan) still need their picture,
  /// and since when they are in view; [`pumpAvatars`] asks once they stayed.
  watchPictures() {
    const top = Math.floor(this.scroller.scrollTop / ROW_HEIGHT);
    const bottom = Math.ceil((this.scroller.scrollTop + this.scroller.clientHeight) / ROW_HEIGHT) - 1;
    const now = performance.now();
    const seen = new Set();
    for (let i = top; i <= Math.min(bottom, this.total - 1); i++) {
      const phone = this.row(i)?.phone;
      if (!phone || this.avatars.has(phone)) continue;
      seen.add(phone);
      if (!this.inView.has(phone)) this.inView.set(phone, now);
    }
    for (const phone of this.inView.keys()) if (!seen.has(phone)) this.inView.delete(phone);
    this.pumpAvatars();
  }

  /// One Tab stop: the selected row if drawn, else the first row in view.
  drawTabStop() {
    const rows = [...this.rowsEl.children];
    const top = Math.floor(this.scroller.scrollTop / ROW_HEIGHT);
    const byIndex = (a, b) => Number(a.dataset.index) - Number(b.dataset.index);
    const stop =
      rows.find((el) => el.dataset.key === this.selected) ??
      rows.filter((el) => Number(el.dataset.index) >= top).sort(byIndex)[0];
    for (const el of rows) {
      const tabIndex = el === stop ? '0' : '-1';
      if (el.getAttribute('tabindex') !== tabIndex) el.setAttribute('tabindex', tabIndex);
    }
  }

  /// The keyboard moved to a row that was not loaded or drawn yet: select
  /// it once loaded, focus it once drawn.
  settleFocus() {
    const index = this.pendingFocus;
    if (index < 0) return;
    const row = this.row(index);
    if (!row) return;
    this.select(row, index);
    const el = this.rowElementAt(index);
    if (!el) return;
    this.pendingFocus = -1;
    el.setAttribute('tabindex', '0');
    el.focus({ preventScroll: true });
  }

  rowElementAt(index) {
    return this.rowsEl.querySelector(`.row[data-index="${index}"]`);
  }

  drawCount() {
    if (!this.loaded) {
      this.countEl.textContent = '';
      this.emptyEl.hidden = true;
      return;
    }
    const count = this.filter === 'blocked' ? `${this.total} blocked` : plural(this.total, 'contact');
    this.countEl.textContent = this.query ? `${this.total} found` : count;
    this.emptyEl.hidden = this.total > 0;
    this.emptyEl.textContent = this.query
      ? `Nobody matches “${this.query}”.`
      : this.filter === 'blocked'
        ? 'This account has blocked nobody.'
        : 'No contacts yet. They appear as the phone sends its address book.';
  }

  /// Asks for one page (once: a page already asked for shares its promise).
  load(page) {
    if (this.pages.has(page)) return Promise.resolve();
    if (!this.loading.has(page)) this.loading.set(page, this.fetchPage(page));
    return this.loading.get(page);
  }

  async fetchPage(page) {
    const generation = this.generation;
    const first = !this.painted;
    if (first) performance.mark('roster:page-asked');
    try {
      const result = await invoke('contacts', {
        query: this.query,
        filter: this.filter,
        offset: page * PAGE_SIZE,
        limit: PAGE_SIZE,
      });
      if (first) performance.mark('roster:page-answered');
      if (generation !== this.generation) return;
      if (result.directory_version < this.wanted) {
        // Read before a change the app has announced since: shown until
        // the page asked again (by the next draw) arrives.
        this.fallback.set(page, result.rows);
      } else {
        this.pages.set(page, result.rows);
        this.versions.set(page, result.directory_version);
        this.fallback.delete(page);
      }
      this.total = result.total;
      this.loaded = true;
      // Settled toggles are now in the list itself.
      for (const [key, override] of this.overrides) if (!override.pending) this.overrides.delete(key);
      this.schedule();
      this.onChange();
    } catch (error) {
      if (generation === this.generation) this.onError(`Cannot load the contact list: ${error}`);
    } finally {
      if (generation === this.generation) this.loading.delete(page);
    }
  }

  /// An empty row: avatar, name, details, toggle; [`fillRow`] fills it.
  rowElement() {
    const el = document.createElement('div');
    el.className = 'row';
    el.role = 'option';
    const text = document.createElement('span');
    text.className = 'row-text';
    const name = document.createElement('span');
    name.className = 'row-name';
    const sub = document.createElement('span');
    sub.className = 'row-sub';
    text.append(name, sub);
    const toggle = document.createElement('button');
    toggle.type = 'button';
    toggle.dataset.action = 'toggle';
    // Not a Tab stop of its own: the list is one (Shift+B toggles the selected row).
    toggle.tabIndex = -1;
    const mark = document.createElement('input');
    mark.type = 'checkbox';
    mark.className = 'row-mark';
    mark.dataset.action = 'mark';
    mark.tabIndex = -1;
    el.append(mark, document.createElement('span'), text, toggle);
    return el;
  }

  /// Brings a row element up to date, touching only what changed.
  fillRow(el, row, index) {
    const key = keyOf(row);
    const { blocked, pending } = this.blockedState(row);
    const set = (target, prop, value) => {
      if (target[prop] !== value) target[prop] = value;
    };
    const [mark, avatar, text, toggle] = el.children;
    const [name, sub] = text.children;
    set(el.style, 'transform', `translateY(${index * ROW_HEIGHT}px)`);
    set(el.dataset, 'key', key);
    set(el.dataset, 'index', String(index));
    set(el.dataset, 'phone', row.phone);
    set(el.dataset, 'blocked', String(blocked));
    el.setAttribute('aria-selected', String(this.selected === key));
    set(mark, 'checked', this.marked.has(key));
    mark.setAttribute('aria-label', `Mark ${displayName(row)}`);

    const picture = this.avatarElement(row);
    if (avatar.dataset.signature !== picture.dataset.signature) avatar.replaceWith(picture);

    set(name, 'textContent', displayName(row));
    // The name line already shows the LID of someone without a number.
    const parts = [row.phone_shown || ONLY_LID];
    if (row.push_name && row.name && row.push_name !== row.name) parts.push(`~${row.push_name}`);
    if (!row.in_address_book) parts.push(row.added ? 'added from a number check' : 'not in the address book');
    set(sub, 'textContent', parts.join(' · '));

    set(toggle, 'className', `toggle${blocked ? ' on' : ''}`);
    toggle.setAttribute('aria-pressed', String(blocked));
    set(toggle, 'textContent', pending ? (blocked ? 'Blocking…' : 'Unblocking…') : blocked ? 'Unblock' : 'Block');
    set(toggle, 'disabled', pending || !this.connected);
    set(toggle, 'title', this.connected ? '' : 'Not connected');
  }

  avatarElement(row) {
    const el = document.createElement('span');
    el.className = 'avatar small';
    el.setAttribute('aria-hidden', 'true');
    const avatar = row.phone ? this.avatars.get(row.phone) : undefined;
    // Someone known only by LID has no number to ask a picture for.
    const state = !row.phone ? 'none' : avatar && avatar !== 'loading' ? avatar.picture_state : row.picture_state;
    el.dataset.picture = state;
    const url = avatar && avatar !== 'loading' ? avatar.picture : null;
    el.dataset.signature = `${state}|${url ?? initial(displayName(row))}`;
    if (avatar && avatar !== 'loading' && avatar.picture) {
      const img = document.createElement('img');
      img.src = avatar.picture;
      img.alt = '';
      el.append(img);
    } else if (state === 'hidden' || state === 'none') {
      el.title = state === 'hidden' ? 'Picture hidden by their privacy settings' : 'No profile picture';
    } else {
      el.textContent = initial(displayName(row));
    }
    return el;
  }

  /// Asks for the pictures of rows that stayed in view, a few at a time,
  /// longest in view first; wakes again when the next one has stayed.
  pumpAvatars() {
    clearTimeout(this.dwellTimer);
    const now = performance.now();
    let next = Infinity;
    for (const [phone, since] of this.inView) {
      if (this.avatarsInFlight >= PICTURE_REQUESTS) return;
      if (now - since < PICTURE_DWELL_MS) {
        next = Math.min(next, since + PICTURE_DWELL_MS - now);
        continue;
      }
      this.inView.delete(phone);
      this.avatars.set(phone, 'loading');
      this.avatarsInFlight += 1;
      invoke('avatar', { phone })
        .then((avatar) => this.avatars.set(phone, avatar))
        .catch(() => this.avatars.set(phone, { picture: null, picture_state: 'unknown' }))
        .finally(() => {
          this.avatarsInFlight -= 1;
          this.pumpAvatars();
          this.schedule();
        });
    }
    if (next !== Infinity) this.dwellTimer = setTimeout(() => this.pumpAvatars(), next);
  }

  /// A picture changed (the detail panel fetched it): show it in the row too.
  setAvatar(phone, avatar) {
    this.avatars.set(phone, avatar);
    this.schedule();
  }

  onClick(event) {
    const rowEl = event.target.closest('.row');
    if (!rowEl) return;
    const row = this.find(rowEl.dataset.key);
    if (!row) return;
    const index = Number(rowEl.dataset.index);
    if (event.target.closest('[data-action="toggle"]')) {
      this.toggle(row);
    } else if (event.target.closest('[data-action="mark"]') || event.ctrlKey || event.metaKey) {
      this.toggleMark(row);
      this.select(row, index);
    } else if (event.shiftKey && this.selectedIndex >= 0) {
      this.markRange(this.selectedIndex, index);
      this.select(row, index);
    } else {
      this.select(row, index);
    }
  }

  /// Marks or unmarks one row.
  toggleMark(row) {
    const key = keyOf(row);
    if (this.marked.has(key)) this.marked.delete(key);
    else if (this.marked.size < MAX_MARKED) this.marked.set(key, row);
    this.marksChanged();
  }

  /// Marks or unmarks the selected row (Space).
  toggleMarkSelected() {
    const row = this.selectedRow();
    if (row) this.toggleMark(row);
  }

  /// Marks the loaded rows from `from` to `to` (Shift+click).
  markRange(from, to) {
    for (let i = Math.min(from, to); i <= Math.max(from, to) && this.marked.size < MAX_MARKED; i++) {
      const row = this.row(i);
      if (row) this.marked.set(keyOf(row), row);
    }
    this.marksChanged();
  }

  /// Marks everyone the search and filter show (up to [`MAX_MARKED`]).
  async markAll() {
    const generation = this.generation;
    for (let offset = 0; offset < Math.min(this.total, MAX_MARKED); offset += MARK_PAGE) {
      let page;
      try {
        page = await invoke('contacts', { query: this.query, filter: this.filter, offset, limit: MARK_PAGE });
      } catch (error) {
        this.onError(`Cannot mark everyone shown: ${error}`);
        return;
      }
      // The list changed under us: keep what was marked so far.
      if (generation !== this.generation) break;
      for (const row of page.rows) if (this.marked.size < MAX_MARKED) this.marked.set(keyOf(row), row);
      if (page.rows.length < MARK_PAGE) break;
    }
    this.marksChanged();
  }

  clearMarks() {
    if (this.marked.size === 0) return;
    this.marked.clear();
    this.marksChanged();
  }

  marksChanged() {
    this.schedule();
    this.onMarks(this.marked);
  }

  /// A row took focus (Tab, or a click): it becomes the selection.
  onFocus(event) {
    const rowEl = event.target;
    if (!rowEl.classList?.contains('row') || rowEl.dataset.key === this.selected) return;
    const row = this.find(rowEl.dataset.key);
    if (row) this.select(row, Number(rowEl.dataset.index));
  }

  /// True when focus is on the list or one of its rows.
  hasFocus() {
    return this.scroller.contains(document.activeElement);
  }

  /// The selected row, if it is loaded.
  selectedRow() {
    return this.selected === null ? null : this.find(this.selected);
  }

  /// Moves the selection (and focus) to row `index`, scrolling it into
  /// view; a row not loaded yet is selected once its page arrives.
  moveTo(index) {
    if (!this.loaded || this.total === 0) return;
    const target = Math.max(0, Math.min(this.total - 1, index));
    this.pendingFocus = target;
    this.scrollToIndex(target);
    this.settleFocus();
    this.schedule();
  }

  /// Moves the selection by `delta` rows (arrow keys, Page Up/Down).
  moveBy(delta) {
    const from = this.pendingFocus >= 0 ? this.pendingFocus : this.selectedIndex;
    this.moveTo(from < 0 ? 0 : from + delta);
  }

  /// How many rows fill the view (for Page Up/Down).
  pageRows() {
    return Math.max(1, Math.floor(this.scroller.clientHeight / ROW_HEIGHT) - 1);
  }

  /// Focuses the selected row (or the list's Tab stop when none is drawn).
  focus() {
    const el = this.rowElementAt(this.selectedIndex) ?? this.rowsEl.querySelector('.row[tabindex="0"]');
    if (el) el.focus();
    else if (this.total > 0) this.moveTo(Math.max(0, this.selectedIndex));
  }

  scrollToIndex(index) {
    const top = index * ROW_HEIGHT;
    if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
    else if (top + ROW_HEIGHT > this.scroller.scrollTop + this.scroller.clientHeight) {
      this.scroller.scrollTop = top + ROW_HEIGHT - this.scroller.clientHeight;
    }
  }

  /// Type-ahead: the next row after the selection whose name starts with
  /// `prefix` (or the selection itself while the prefix still fits it),
  /// wrapping at the end; pages not loaded yet are asked for in turn.
  async findPrefix(prefix) {
    const wanted = prefix.toLocaleLowerCase();
    const fits = (row) => displayName(row).toLocaleLowerCase().startsWith(wanted);
    const current = this.selectedRow();
    const start = Math.max(0, this.selectedIndex);
    if (current && prefix.length > 1 && fits(current)) return start;
    const generation = this.generation;
    const asked = new Set();
    for (let step = 1; step <= this.total; step++) {
      const index = (start + step) % this.total;
      const page = Math.floor(index / PAGE_SIZE);
      if (!this.row(index) && !asked.has(page)) {
        asked.add(page);
        await this.load(page);
      }
      if (generation !== this.generation) return -1;
      const row = this.row(index);
      if (row && fits(row)) return index;
    }
    return -1;
  }

  /// Blocks or unblocks the selected row, as its toggle does.
  toggleSelected() {
    const row = this.selectedRow();
    if (row) this.toggle(row);
  }

  select(row, index) {
    const same = this.selected === keyOf(row);
    this.selected = keyOf(row);
    this.selectedIndex = index;
    this.schedule();
    if (!same) this.onSelect(row);
  }

  /// The row's Block/Unblock: a block asks first when the setting says so.
  toggle(row) {
    const { blocked, pending } = this.blockedState(row);
    if (pending || !this.connected) return;
    if (!blocked && this.confirmBlocks) {
      const name = displayName(row);
      this.pendingBlock = row;
      this.confirmText.title.textContent = `Block ${name}?`;
      this.confirmText.body.textContent =
        `${name} will not be able to call or message this account. You can unblock them at any time.`;
      this.askToBlock();
      return;
    }
    this.setBlocked(row, !blocked);
  }

  /// Blocks or unblocks at once in the window, then asks the server; a
  /// refusal puts the row back and says why.
  async setBlocked(row, block) {
    const key = keyOf(row);
    if (this.blockedState(row).pending || !this.connected) return;
    this.overrides.set(key, { blocked: block, pending: true });
    this.schedule();
    this.onChange();
    try {
      await invoke('set_blocked', { target: targetOf(row), block });
      this.overrides.set(key, { blocked: block, pending: false });
      this.reload();
      this.onBlocked(row, block);
    } catch (error) {
      this.overrides.delete(key);
      this.onError(`Could not ${block ? 'block' : 'unblock'} ${displayName(row)}: ${error}`);
    }
    this.schedule();
    this.onChange();
  }
}
