// SPDX-License-Identifier: Apache-2.0
// The passive side of TCP: one server per listen address (IPv4 and IPv6), handing every
// accepted socket to a callback (the daemon finds the peer by address and calls
// PeerSession.acceptIncoming). It knows nothing about BGP.
import net from 'node:net';
import type { Logger } from 'pino';
import { listenSecure, type SecureListener } from './transport.ts';

export class Listener {
  private readonly addresses: string[];
  private readonly port: number;
  private readonly onConnection: (socket: net.Socket) => void;
  private readonly log: Logger | undefined;
  private servers: net.Server[] = [];
  private secure: SecureListener[] = [];
  /** RFC 2385 keys per peer address, installed on the listening sockets before they listen. */
  private readonly keys: Map<string, string>;

  /** Some peer uses GTSM: SYN-ACKs must leave with TTL 255. */
  private readonly ttl255: boolean;

  constructor(
    addresses: string[],
    port: number,
    onConnection: (socket: net.Socket) => void,
    logger?: Logger,
    md5Keys: { address: string; password: string }[] = [],
    opts: { ttl255?: boolean } = {},
  ) {
    this.addresses = addresses;
    this.port = port;
    this.onConnection = onConnection;
    this.log = logger;
    this.keys = new Map(md5Keys.map((k) => [k.address, k.password]));
    this.ttl255 = opts.ttl255 ?? false;
  }

  /**
   * Add, change or remove (null) one peer's MD5 key on every listening socket; other peers'
   * connections are unaffected. Needs a listener started with at least one key (the sockets
   * are then the addon's).
   */
  setKey(address: string, password: string | null): void {
    if (password === null) this.keys.delete(address);
    else this.keys.set(address, password);
    for (const l of this.secure) {
      const v6Listener = net.isIPv6(((l.server.address() as net.AddressInfo | null)?.address ?? '0.0.0.0'));
      if (net.isIPv6(address.split('%')[0]!) && !v6Listener) continue;
      l.setKey(address, password);
    }
  }

  get keyed(): boolean {
    return this.secure.length > 0;
  }

  /** Binds every address; rejects (closing what was bound) if one fails. */
  async listen(): Promise<void> {
    const hasIpv4 = this.addresses.some((a) => net.isIPv4(a));
    try {
      for (const address of this.addresses) {
        // "::" would also take IPv4 on Linux and collide with an explicit IPv4 listener.
        const ipv6Only = net.isIPv6(address) && hasIpv4;
        this.servers.push(await this.listenOne(address, ipv6Only));
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  private async listenOne(host: string, ipv6Only: boolean): Promise<net.Server> {
    if (this.keys.size || this.ttl255) {
      // RFC 2385: the keys must be on the socket before any peer can connect.
      const keys = [...this.keys].map(([address, password]) => ({ address, password })).filter((k) => net.isIPv6(host) || !net.isIPv6(k.address.split('%')[0]!));
      const l = await listenSecure(host, this.port, ipv6Only, keys, (socket) => this.accept(socket), { ttl255: this.ttl255 });
      l.server.on('error', (err) => this.log?.warn({ err: err.message, host }, 'listener error'));
      this.log?.info({ host, port: (l.server.address() as net.AddressInfo).port, md5Peers: keys.length }, 'listening for BGP connections');
      this.secure.push(l);
      return l.server;
    }
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.listen({ host, port: this.port, ipv6Only }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log?.warn({ err: err.message, host }, 'listener error'));
        this.log?.info({ host, port: (server.address() as net.AddressInfo).port }, 'listening for BGP connections');
        resolve(server);
      });
    });
  }

  private accept(socket: net.Socket): void {
    // Never let a socket error escape before its owner attaches handlers.
    socket.on('error', (err) => this.log?.debug({ err: err.message }, 'incoming socket error'));
    this.log?.debug({ remote: socket.remoteAddress, port: socket.remotePort }, 'incoming connection');
    try {
      this.onConnection(socket);
    } catch (err) {
      this.log?.warn({ err }, 'connection handler failed');
      socket.destroy();
    }
  }

  /** The bound addresses (useful with port 0). */
  bound(): net.AddressInfo[] {
    return this.servers.map((s) => s.address() as net.AddressInfo);
  }

  async close(): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    this.secure = [];
    // net.Server.close() stops listening at once (the port is free), but its callback waits until
    // every accepted connection has ended; those belong to sessions now, and a listener reopen
    // (first MD5 key) with an established incoming session must not wait for it to end.
    for (const s of servers) s.close();
  }
}
