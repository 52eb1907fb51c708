/** The dev provider's own pages: sign in, consent, errors. Plain HTML, no script, one stylesheet. */

export function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

const STYLE = `
  :root { color-scheme: light dark; --accent: #5b4bdb; --muted: #6b7280; }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; font: 16px/1.5 system-ui, sans-serif;
    background: linear-gradient(160deg, #eef0ff, #f8f9fb 60%); color: #111827; }
  @media (prefers-color-scheme: dark) { body { background: #111827; color: #f3f4f6; } main { background: #1f2937 !important; } }
  main { width: min(24rem, 92vw); background: #fff; border-radius: 14px; padding: 2rem 2rem 1.5rem;
    box-shadow: 0 10px 30px rgb(0 0 0 / 0.08), 0 1px 3px rgb(0 0 0 / 0.06); }
  header { display: flex; align-items: center; gap: .6rem; margin-bottom: 1.25rem; }
  .logo { width: 2rem; height: 2rem; border-radius: 8px; background: var(--accent); color: #fff; display: grid;
    place-items: center; font-weight: 700; }
  h1 { font-size: 1.25rem; margin: 0; }
  p { margin: .25rem 0 1rem; color: var(--muted); }
  label { display: block; font-size: .875rem; font-weight: 600; margin: .75rem 0 .25rem; }
  input { width: 100%; padding: .6rem .7rem; border: 1px solid #d1d5db; border-radius: 8px; font: inherit; }
  input:focus { outline: 2px solid var(--accent); outline-offset: 1px; border-color: transparent; }
  .actions { display: flex; gap: .5rem; margin-top: 1.25rem; }
  button { flex: 1; padding: .65rem; border-radius: 8px; border: 1px solid transparent; font: inherit; font-weight: 600;
    cursor: pointer; background: var(--accent); color: #fff; }
  button.secondary { background: transparent; color: inherit; border-color: #d1d5db; }
  ul { padding-left: 1.2rem; margin: .5rem 0 0; }
  .error { background: #fee2e2; color: #991b1b; border-radius: 8px; padding: .5rem .75rem; margin: 0 0 .5rem; }
  footer { margin-top: 1.25rem; font-size: .75rem; color: var(--muted); text-align: center; }
`

function page (title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)} · wsauth dev provider</title>
  <style>${STYLE}</style>
</head>
<body>
  <main>
    <header><div class="logo" aria-hidden="true">W</div><h1>${escapeHtml(title)}</h1></header>
    ${body}
    <footer>wsauth dev provider: for local development only</footer>
  </main>
</body>
</html>`
}

export interface LoginPage {
  uid: string
  clientName: string
  username?: string
  error?: string
}

export function loginPage ({ uid, clientName, username = '', error }: LoginPage): string {
  const action = `/interaction/${encodeURIComponent(uid)}`
  return page('Sign in', `
    <p>to continue to <strong>${escapeHtml(clientName)}</strong></p>
    ${error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>`}
    <form method="post" action="${action}/login" autocomplete="on">
      <label for="username">Username</label>
      <input id="username" name="username" value="${escapeHtml(username)}" autocomplete="username" required autofocus>
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
      <div class="actions"><button type="submit">Sign in</button></div>
    </form>
    <form method="post" action="${action}/abort"><div class="actions"><button class="secondary" type="submit">Cancel</button></div></form>`)
}

export interface ConsentPage {
  uid: string
  clientName: string
  username: string
  /** What the client asks for, in words. */
  requests: string[]
}

export function consentPage ({ uid, clientName, username, requests }: ConsentPage): string {
  const action = `/interaction/${encodeURIComponent(uid)}`
  return page('Allow access?', `
    <p>Signed in as <strong>${escapeHtml(username)}</strong>. <strong>${escapeHtml(clientName)}</strong> would like to:</p>
    <ul>${requests.map((request) => `<li>${escapeHtml(request)}</li>`).join('')}</ul>
    <div class="actions">
      <form method="post" action="${action}/abort" style="flex:1;display:flex"><button class="secondary" type="submit">Deny</button></form>
      <form method="post" action="${action}/confirm" style="flex:1;display:flex"><button type="submit">Allow</button></form>
    </div>`)
}

export function errorPage (title: string, description: string): string {
  return page(title, `<p class="error" role="alert">${escapeHtml(description)}</p><p>Go back to the application and sign in again.</p>`)
}
