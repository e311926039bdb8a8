// SPDX-License-Identifier: Apache-2.0
// The passive side of TCP: one server per listen address (IPv4 and IPv6), handing every
// accepted socket to a callback (the daemon finds the peer by address and calls
// PeerSession.acceptIncoming). It knows nothing about BGP.
import net from 'node:net';
import type { Logger } from 'pino';

export class Listener {
  private readonly addresses: string[];
  private readonly port: number;
  private readonly onConnection: (socket: net.Socket) => void;
  private readonly log: Logger | undefined;
  private servers: net.Server[] = [];

  constructor(addresses: string[], port: number, onConnection: (socket: net.Socket) => void, logger?: Logger) {
    this.addresses = addresses;
    this.port = port;
    this.onConnection = onConnection;
    this.log = logger;
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

  private listenOne(host: string, ipv6Only: boolean): Promise<net.Server> {
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
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
