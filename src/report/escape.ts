// Escaping: every string from AWS or an instance goes through one of these before it is written
// into the job summary, so that instance output cannot break a table, turn into links or markup,
// or spoof the text around it.

/** A zero-width space: breaks `://`, `www.` and `@name` so GitHub links none of them. */
const ZWSP = '\u200B'

/** Longest cell text from AWS or an instance, so that one long reason cannot widen a table. */
const CELL_MAX_CHARS = 300

// Control characters (ANSI escapes among them) and bidi overrides, which could spoof the text
// around them; shown as U+FFFD.
const UNSAFE = '\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F\\u202A-\\u202E\\u2066-\\u2069'
// Markdown and HTML specials, line breaks, and what GitHub autolinks (`scheme://`, `www.`,
// `@mention`, `#123`).
const MARKDOWN_SPECIAL = new RegExp(`\\r\\n?|\\n|:\\/\\/|www\\.|[\\\\\`*_[\\]()#!|<>&~$@${UNSAFE}]`, 'gi')
const UNSAFE_CHAR = new RegExp(`[${UNSAFE}]`)
// Backticks and tildes too, so that a fence in the output stays text even to a renderer that
// does not keep `<pre>` raw.
const HTML_SPECIAL = new RegExp(`\\r\\n?|:\\/\\/|www\\.|[<>&#@\`~${UNSAFE}]`, 'gi')

/** Would GitHub turn `@` or `#` at this offset into a mention or an issue link? */
function startsReference(text: string, offset: number): boolean {
  return /[\p{L}\p{N}_]/u.test(text.charAt(offset + 1))
}

function linkBreak(match: string, offset: number, text: string): string | undefined {
  if (match === '://') return `:${ZWSP}//`
  if (match.length === 4) return `${match.slice(0, 3)}${ZWSP}.` // www.
  if (match === '@') return startsReference(text, offset) ? `@${ZWSP}` : '@'
  if (match === '#' && startsReference(text, offset)) return `&#35;${ZWSP}`
  if (match.length === 1 && UNSAFE_CHAR.test(match)) return '\uFFFD'
  return undefined
}

function markdownReplacement(match: string, offset: number, text: string): string {
  const linked = linkBreak(match, offset, text)
  if (linked !== undefined) return linked
  switch (match) {
    case '\n':
    case '\r':
    case '\r\n':
      return '<br>'
    case '&':
      return '&amp;'
    case '<':
      return '&lt;'
    case '>':
      return '&gt;'
    default:
      return `&#${match.charCodeAt(0)};`
  }
}

function htmlReplacement(match: string, offset: number, text: string): string {
  const linked = linkBreak(match, offset, text)
  if (linked !== undefined) return linked
  switch (match) {
    case '&':
      return '&amp;'
    case '<':
      return '&lt;'
    case '>':
      return '&gt;'
    case '#':
      return '#'
    case '`':
    case '~':
      return `&#${match.charCodeAt(0)};`
    default:
      return '\n' // \r or \r\n
  }
}

/**
 * Text from AWS or an instance, made safe to place inline in markdown or HTML: the result is one
 * line, every markdown and HTML special is a character reference, and URLs, `www.` and
 * `@mentions` are broken with a zero-width space so that GitHub links none of them. It also
 * cannot start a block (list, heading, setext underline, code indent) at the start of a line.
 */
export function escapeMarkdown(text: string): string {
  const escaped = text.replace(MARKDOWN_SPECIAL, markdownReplacement)
  const number = /^(\d{1,9})\./.exec(escaped)
  if (number) return `${number[1]}&#46;${escaped.slice(number[0].length)}`
  return /^[-+= \t]/.test(escaped) ? `&#${escaped.charCodeAt(0)};${escaped.slice(1)}` : escaped
}

/** Text for a table cell: escaped as by `escapeMarkdown`, trimmed and cut to `maxChars`. */
export function escapeCell(text: string, maxChars = CELL_MAX_CHARS): string {
  let value = text.trim()
  if (value.length > maxChars) {
    let end = maxChars - 1
    // Do not split a surrogate pair.
    if (/[\uDC00-\uDFFF]/.test(value.charAt(end))) end -= 1
    value = `${value.slice(0, end)}…`
  }
  return escapeMarkdown(value)
}

/**
 * Text for inside `<pre>`: HTML-escaped with its lines kept (a fenced block would not do, since
 * a fence in the output would close it), links and mentions broken as in `escapeMarkdown`.
 */
export function escapeHtml(text: string): string {
  return text.replace(HTML_SPECIAL, htmlReplacement)
}
