// One simulated client's cookies, kept the way a browser keeps them: a Set-Cookie replaces the
// cookie of that name, an expired one (Expires, or Max-Age which wins over it) is dropped and
// never sent again. This is what makes a load-generator client sticky like a real visitor.

interface Stored {
  value: string
  /** Epoch ms; undefined for a session cookie. */
  expiresAt?: number
}

export class CookieJar {
  private readonly cookies = new Map<string, Stored>()

  /** Takes the Set-Cookie headers of a response received at `now`. */
  store(setCookie: string[] | undefined, now: number): void {
    for (const header of setCookie ?? []) {
      const [pair, ...attrs] = header.split(';')
      const i = pair.indexOf('=')
      if (i <= 0) continue
      const name = pair.slice(0, i).trim()
      const value = pair.slice(i + 1).trim()
      let expiresAt: number | undefined
      let maxAge: number | undefined
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=').map((x) => x.trim())
        if (k.toLowerCase() === 'expires') {
          const t = Date.parse(v)
          if (!Number.isNaN(t)) expiresAt = t
        } else if (k.toLowerCase() === 'max-age' && /^-?\d+$/.test(v)) {
          maxAge = Number(v)
        }
      }
      if (maxAge !== undefined) expiresAt = now + maxAge * 1000
      if (expiresAt !== undefined && expiresAt <= now) this.cookies.delete(name)
      else this.cookies.set(name, { value, ...(expiresAt !== undefined ? { expiresAt } : {}) })
    }
  }

  /** The Cookie header to send at `now` ('' when none). */
  header(now: number): string {
    const out: string[] = []
    for (const [name, c] of this.cookies) {
      if (c.expiresAt !== undefined && c.expiresAt <= now) {
        this.cookies.delete(name)
        continue
      }
      out.push(`${name}=${c.value}`)
    }
    return out.join('; ')
  }

  get size(): number {
    return this.cookies.size
  }
}
