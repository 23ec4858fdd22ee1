import { Suspense, useEffect } from "react";
import { createBrowserRouter, Navigate, NavLink, Outlet, RouterProvider, useLocation, useNavigate } from "react-router";
import { onUnauthorized } from "./api/client";
import { api } from "./api/endpoints";
import { preloadable, startEarly } from "./ui/preload";
import { CredentialsPage } from "./pages/CredentialsPage";
import { LoginPage } from "./pages/LoginPage";
import { RunsPage } from "./pages/RunsPage";
import { WaitingForYou } from "./run/WaitingForYou";
import { SettingsPage } from "./pages/SettingsPage";
import { AcceptInvitationPage } from "./settings/AcceptInvitationPage";
import { TemplatesPage } from "./pages/TemplatesPage";
import { WorkflowsPage } from "./pages/WorkflowsPage";
import { useSession } from "./session/store";
import { ErrorState, Spinner } from "./ui/states";
import { Toasts } from "./ui/toasts";

// The canvas pages carry React Flow and ELK: load them on demand, and at once when the browser
// opened one of them (with the page's main request, while the session is being checked).
const EditorPage = preloadable(() => import("./pages/EditorPage"));
const RunPage = preloadable(() => import("./pages/RunPage"));

function startPageEarly(pathname: string) {
  const editor = /^\/workflows\/([0-9a-f-]{36})\/?$/.exec(pathname);
  if (editor) {
    void EditorPage.preload().catch(() => undefined);
    startEarly(`workflow:${editor[1]}`, () => api.getWorkflow(editor[1]!));
    return;
  }
  const run = /^\/runs\/([0-9a-f-]{36})\/?$/.exec(pathname);
  if (run) {
    void RunPage.preload().catch(() => undefined);
    startEarly(`run:${run[1]}`, () => api.getRun(run[1]!));
  }
}
if (typeof window !== "undefined") startPageEarly(window.location.pathname);

function RequireAuth() {
  const status = useSession((s) => s.status);
  const error = useSession((s) => s.error);
  const init = useSession((s) => s.init);
  const location = useLocation();
  if (status === "loading") return <Spinner label="Signing in…" />;
  if (status === "error")
    return <ErrorState error={error ?? "The server could not be reached."} onRetry={() => void init()} />;
  if (status === "anonymous") {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  return <Shell />;
}

function WorkspacePicker() {
  const me = useSession((s) => s.me);
  const workspaceId = useSession((s) => s.workspaceId);
  const setWorkspace = useSession((s) => s.setWorkspace);
  if (!me || me.workspaces.length <= 1) {
    const w = me?.workspaces[0];
    return w ? (
      <span className="muted" title={`Role: ${w.role}`}>
        {w.name}
      </span>
    ) : null;
  }
  return (
    <label className="inline-field">
      <span className="sr-only">Workspace</span>
      <select data-testid="workspace-picker" value={workspaceId ?? ""} onChange={(e) => setWorkspace(e.target.value)}>
        {me.workspaces.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name} ({w.role})
          </option>
        ))}
      </select>
    </label>
  );
}

function Shell() {
  const me = useSession((s) => s.me);
  const logout = useSession((s) => s.logout);
  const navigate = useNavigate();
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/workflows" className="brand" aria-label="Agentloom home">
          <span className="brand-mark" aria-hidden="true" />
          Agentloom
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/workflows" data-testid="nav-workflows">
            Workflows
          </NavLink>
          <NavLink to="/templates" data-testid="nav-templates">
            Templates
          </NavLink>
          <NavLink to="/runs" data-testid="nav-runs">
            Runs
          </NavLink>
          <NavLink to="/settings/credentials" data-testid="nav-settings" title="Workspace settings: credentials">
            Settings
          </NavLink>
          <NavLink to="/settings/workspace" data-testid="nav-workspace" title="Members, invitations, tokens, limits">
            Team
          </NavLink>
        </nav>
        <div className="topbar-right">
          <WaitingForYou />
          <WorkspacePicker />
          <span className="muted" data-testid="current-user">
            {me?.username}
          </span>
          <button
            type="button"
            className="button button-ghost"
            onClick={() => void logout().then(() => navigate("/login"))}
          >
            Log out
          </button>
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        <Suspense fallback={<Spinner />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}

function NotFound() {
  return (
    <div className="page">
      <h1>Not found</h1>
      <p>
        There is nothing at this address. <NavLink to="/workflows">Back to workflows</NavLink>
      </p>
    </div>
  );
}

const router = createBrowserRouter([
  { path: "/login", element: <LoginPage /> },
  {
    element: <RequireAuth />,
    children: [
      { index: true, element: <Navigate to="/workflows" replace /> },
      { path: "/workflows", element: <WorkflowsPage /> },
      { path: "/workflows/:id", element: <EditorPage /> },
      { path: "/templates", element: <TemplatesPage /> },
      { path: "/runs", element: <RunsPage /> },
      { path: "/runs/:id", element: <RunPage /> },
      { path: "/settings", element: <Navigate to="/settings/credentials" replace /> },
      { path: "/settings/credentials", element: <CredentialsPage /> },
      { path: "/settings/workspace", element: <SettingsPage /> },
      { path: "/invitations/:token", element: <AcceptInvitationPage /> },
      { path: "*", element: <NotFound /> },
    ],
  },
]);

export function App() {
  const init = useSession((s) => s.init);
  const expire = useSession((s) => s.expire);
  useEffect(() => {
    onUnauthorized(expire);
    void init();
    return () => onUnauthorized(null);
  }, [init, expire]);
  return (
    <>
      <RouterProvider router={router} />
      <Toasts />
    </>
  );
}
