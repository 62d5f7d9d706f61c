// The first stage starts loading the rest of the action once its first request is on its way, so
// that the load is paid while the answer travels: firstRequestSent must resolve when the request
// has been sent, before its answer arrives.
import { describe, expect, it } from '@jest/globals'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { firstRequestSent } from '../../src/main.js'

describe('firstRequestSent', () => {
  it('resolves once the request is sent, before the answer comes back', async () => {
    const events: string[] = []
    const server = createServer((req, res) => {
      events.push('server got it')
      setTimeout(() => res.end('ok'), 300)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const sent = firstRequestSent()
      void sent.promise.then(() => events.push('sent'))
      const { port } = server.address() as AddressInfo
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/' }, (res) => {
          res.resume()
          res.on('end', () => {
            events.push('answered')
            resolve()
          })
        })
        req.on('error', reject)
        req.end('{}')
      })
      expect(events.indexOf('sent')).toBeGreaterThanOrEqual(0)
      expect(events.indexOf('sent')).toBeLessThan(events.indexOf('answered'))
    } finally {
      server.close()
    }
  })

  it('can be given up on: cancel resolves it and stops listening', async () => {
    const sent = firstRequestSent()
    sent.cancel()
    await expect(sent.promise).resolves.toBeUndefined()
  })
})
