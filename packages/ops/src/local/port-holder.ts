/**
 * Which process listens on a loopback TCP port, for messages ("127.0.0.1:3000 is held by pid 812
 * (python3 -m http.server)"). Linux: the listening socket's inode from /proc/net/tcp and tcp6
 * (state 0A is LISTEN; the port is hex), then the process holding `socket:[inode]` among its
 * /proc/<pid>/fd links. Other users' processes may be unreadable: then only the port is named.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (f.length < 10 || f[3] !== "0A") continue;
      if (Number.parseInt(f[1]!.split(":")[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  return inodes;
}

/** The pid and command line of the process listening on `port`, or undefined when unknown. */
export function portHolder(port: number): { pid: number; command: string } | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) {
        let command = "";
        try {
          command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
        } catch {
          // gone
        }
        return { pid: Number(pid), command };
      }
    }
  }
  return undefined;
}

/** ` (held by pid 812: python3 -m http.server)`, or "" when the holder is unknown. */
export function describePortHolder(port: number): string {
  const h = portHolder(port);
  return h ? ` (held by pid ${h.pid}: ${h.command.slice(0, 80) || "?"})` : "";
}
