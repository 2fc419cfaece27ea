import type { MetaFunction } from "@remix-run/node";
import type { ReactNode } from "react";
import { Links, Meta, Outlet, Scripts, ScrollRestoration, isRouteErrorResponse, useRouteError } from "@remix-run/react";

const css = `
:root { color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
body { margin: 0; padding: 2rem 1rem; line-height: 1.5; }
main { max-width: 40rem; margin: 0 auto; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #8884; vertical-align: top; }
th { font-weight: 500; width: 45%; color: #888; }
.muted { color: #888; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .95em; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: .75rem; font-weight: 600; font-size: .85rem; }
.good { background: #1a7f3722; color: #1a7f37; }
.bad { background: #cf222e22; color: #cf222e; }
.error { margin: 1rem 0; padding: .75rem 1rem; border-left: 4px solid #cf222e; background: #cf222e14; white-space: pre-wrap; word-break: break-word; }
footer { margin-top: 1.5rem; font-size: .85rem; color: #888; }
button { font: inherit; padding: .25rem .75rem; cursor: pointer; }
`;

// Default title, also on error pages; routes may override it.
export const meta: MetaFunction = () => [{ title: "Deploy ops demo" }];

export function Layout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: our own bundled stylesheet, no user input */}
        <style dangerouslySetInnerHTML={{ __html: css }} />
      </head>
      <body>
        {children}
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : "Unexpected error";
  return (
    <main>
      <h1>Something went wrong</h1>
      <p className="error">{message}</p>
    </main>
  );
}
