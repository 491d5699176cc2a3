/** A free TCP port on 127.0.0.1, below the OS's ephemeral range (scripts/free-port.mjs). */
export function freePort(): Promise<number>;
