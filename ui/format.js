// How numbers, names and times read in the window.

/// "+15550001234" → "+1 555 000 1234" for North American numbers; other
/// numbers are shown as given (E.164), which is unambiguous everywhere.
export function formatPhone(phone) {
  if (!phone) return '';
  const e164 = phone.startsWith('+') ? phone : `+${phone}`;
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return m ? `+1 ${m[1]} ${m[2]} ${m[3]}` : e164;
}

/// A contact's best name: the address book's, then their own, then the number.
export function displayName(row) {
  return row.name || row.push_name || (row.phone ? formatPhone(row.phone) : `${row.lid}@lid`);
}

export function initial(text) {
  const letter = [...(text || '').replace(/^[^\p{L}\p{N}]+/u, '')][0];
  return letter ? letter.toUpperCase() : '?';
}

export function capitalize(text) {
  return text ? text[0].toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.') : '';
}

/// A unix time as the operator's locale writes a date and time.
export function localTime(seconds) {
  return new Date(seconds * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
