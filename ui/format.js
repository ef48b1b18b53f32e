// How numbers, names, counts and times read in the window.

// Numbers come formatted from the core (`phone_shown`: "+55 11 95908-9198",
// as the number's country writes it); the window never formats them itself.

/// Someone's number, or their LID as a JID when no number is known.
export function phoneOrLid({ phone_shown, lid }) {
  return phone_shown || `${lid}@lid`;
}

/// What the window says of someone whose number nobody knows (a blocked
/// person outside the address book, known to WhatsApp only by their LID).
export const ONLY_LID = 'only known by their LID';

/// A contact's best name: the address book's, then their own, then the number.
export function displayName(row) {
  return row.name || row.push_name || phoneOrLid(row);
}

export function initial(text) {
  const letter = [...(text || '').replace(/^[^\p{L}\p{N}]+/u, '')][0];
  return letter ? letter.toUpperCase() : '?';
}

export function capitalize(text) {
  return text ? text[0].toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.') : '';
}

/// `text` without its closing full stop, to carry on the sentence.
export function withoutStop(text) {
  return (text || '').replace(/[.!?]$/, '');
}

/// "1 contact", "2 contacts": a count with its noun, plural when not one.
export function plural(count, noun, nouns = `${noun}s`) {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/// Now as a unix time, in seconds like the app's.
export function unixNow() {
  return Math.floor(Date.now() / 1000);
}

/// A unix time as the operator's locale writes a date and time.
export function localTime(seconds) {
  return new Date(seconds * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/// A length of time in its largest sensible unit: "45 s", "12 min", "3.5 h", "4 days".
export function duration(seconds) {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

/// How long ago a unix time in the past was: "just now", "3 h ago".
export function ago(seconds) {
  const elapsed = Math.max(0, unixNow() - seconds);
  return elapsed < 60 ? 'just now' : `${duration(elapsed)} ago`;
}
