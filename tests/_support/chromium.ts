/**
 * @module
 * A real headless Chromium for browser tests, driven over the DevTools protocol with Deno's
 * WebSocket: one browser connection, pages as flattened target sessions. Nothing sleeps: the
 * DevTools port is found by polling the `DevToolsActivePort` file, page state by polling
 * `evaluate()` with a deadline.
 */

import { waitFor } from "./wait.ts";

/** The Chromium binary: $CHROMIUM_BIN or Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  return Deno.env.get("CHROMIUM_BIN") ?? "/usr/bin/chromium";
}

/** A console message or log entry the page produced. */
export interface PageLogEntry {
  readonly level: string;
  readonly text: string;
}

type Json = Record<string, unknown>;
type EventHandler = (params: Json, sessionId?: string) => void;

/** One DevTools WebSocket: numbered commands, replies by id, events to listeners. */
class Cdp {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, { resolve(v: Json): void; reject(e: Error): void }>();
  readonly #handlers: EventHandler[] = [];
  readonly closed: Promise<void>;
  #seq = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.closed = new Promise((r) => ws.addEventListener("close", () => r(), { once: true }));
    ws.addEventListener("message", (ev) => {
      const msg = JSON.parse(String(ev.data));
      if (typeof msg.id === "number") {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${msg.error.message} (${msg.error.code})`));
        else p?.resolve(msg.result ?? {});
      } else if (typeof msg.method === "string") {
        for (const h of this.#handlers) h({ method: msg.method, ...msg.params }, msg.sessionId);
      }
    });
    ws.addEventListener("close", () => {
      for (const p of this.#pending.values()) p.reject(new Error("DevTools connection closed"));
      this.#pending.clear();
    });
  }

  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`Cannot connect to ${url}`)), {
        once: true,
      });
    });
    return new Cdp(ws);
  }

  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    const id = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(h: EventHandler): void {
    this.#handlers.push(h);
  }

  close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close();
    return this.closed;
  }
}

/** A page (tab) of the browser. */
export class Page {
  readonly #cdp: Cdp;
  readonly #session: string;
  /** Console messages and browser log entries (CSP violations, failed loads). */
  readonly logs: PageLogEntry[] = [];
  /** Every URL the page requested. */
  readonly requests: string[] = [];

  constructor(cdp: Cdp, session: string) {
    this.#cdp = cdp;
    this.#session = session;
    cdp.on((p, sid) => {
      if (sid !== session) return;
      if (p.method === "Network.requestWillBeSent") {
        this.requests.push(String((p.request as Json).url));
      } else if (p.method === "Log.entryAdded") {
        const e = p.entry as Json;
        this.logs.push({ level: String(e.level), text: String(e.text) });
      } else if (p.method === "Runtime.consoleAPICalled") {
        const args = (p.args as Json[]).map((a) => String(a.value ?? a.description ?? ""));
        this.logs.push({ level: String(p.type), text: args.join(" ") });
      } else if (p.method === "Runtime.exceptionThrown") {
        const d = p.exceptionDetails as Json;
        this.logs.push({
          level: "exception",
          text: String((d.exception as Json | undefined)?.description ?? d.text),
        });
      }
    });
  }

  send(method: string, params: Json = {}): Promise<Json> {
    return this.#cdp.send(method, params, this.#session);
  }

  /** Evaluates an expression in the page; returns its value (JSON-serialisable). */
  async evaluate<T = unknown>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, returnByValue: true });
    if (r.exceptionDetails) {
      throw new Error(`evaluate(${expression}) threw: ${JSON.stringify(r.exceptionDetails)}`);
    }
    return (r.result as Json).value as T;
  }

  /** Sets the viewport; `mobile` also emulates a phone (touch, device pixel ratio 2). */
  async setViewport(width: number, height: number, mobile = false): Promise<void> {
    await this.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: mobile ? 2 : 1,
      mobile,
    });
  }

  /** Navigates and waits for the load event. */
  async navigate(url: string): Promise<void> {
    await this.send("Page.navigate", { url });
    await waitFor(
      async () => (await this.evaluate<string>("document.readyState")) === "complete",
      { what: `page ${url} to load`, deadlineMs: 20_000 },
    );
  }

  /** Saves a PNG screenshot of the viewport (or the whole page with fullPage). */
  async screenshot(path: string, opts: { fullPage?: boolean } = {}): Promise<Uint8Array> {
    const r = await this.send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: opts.fullPage ?? false,
    });
    const png = Uint8Array.from(atob(String(r.data)), (ch) => ch.charCodeAt(0));
    await Deno.writeFile(path, png);
    return png;
  }
}

/** A running headless Chromium. */
export interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts headless Chromium with a private profile and DevTools on a free port.
 *
 * @param opts `windowSize` as [width, height] (default 1280×900)
 */
export async function launchChromium(
  opts: { windowSize?: [number, number] } = {},
): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "cpan-bridge-chromium-" });
  const [w, h] = opts.windowSize ?? [1280, 900];
  const child = new Deno.Command(chromiumPath(), {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      `--window-size=${w},${h}`,
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Drain stderr (Chromium is chatty) and keep the tail for error messages.
  let stderrTail = "";
  const drained = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(chunk) {
        stderrTail = (stderrTail + chunk).slice(-4000);
      },
    }),
  ).catch(() => {});
  let exited = false;
  child.status.then(() => (exited = true));

  const cleanup = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* exited */ }
    await child.status;
    await drained;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };

  let browserUrl = "";
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`Chromium exited during start-up:\n${stderrTail}`);
        const text = await Deno.readTextFile(`${profile}/DevToolsActivePort`).catch(() => "");
        const [port, path] = text.split("\n");
        if (!port || !path) return false;
        browserUrl = `ws://127.0.0.1:${port}${path}`;
        return true;
      },
      { what: "Chromium DevToolsActivePort", deadlineMs: 30_000 },
    );
  } catch (err) {
    await cleanup();
    throw err;
  }
  const cdp = await Cdp.connect(browserUrl);

  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      await cdp.send("Browser.close").catch(() => {});
      await cdp.close();
      await cleanup();
    })();

  return {
    async newPage() {
      const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
      const page = new Page(cdp, String(sessionId));
      await Promise.all([
        page.send("Page.enable"),
        page.send("Runtime.enable"),
        page.send("Network.enable"),
        page.send("Log.enable"),
      ]);
      return page;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
