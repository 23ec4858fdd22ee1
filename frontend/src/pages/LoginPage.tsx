import { useState, type FormEvent } from "react";
import { Navigate, useSearchParams } from "react-router";
import { useSession } from "../session/store";
import { Spinner } from "../ui/states";

function safeNext(next: string | null): string {
  // Only same-site paths: never an absolute URL or protocol-relative one.
  if (!next || !next.startsWith("/") || next.startsWith("//")) return "/workflows";
  return next;
}

export function LoginPage() {
  const status = useSession((s) => s.status);
  const login = useSession((s) => s.login);
  const [params] = useSearchParams();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (status === "loading") return <Spinner />;
  if (status === "ready") return <Navigate to={safeNext(params.get("next"))} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username, password);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <form
        className="login-card"
        onSubmit={(e) => void submit(e)}
        aria-labelledby="login-title"
        data-testid="login-form"
      >
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          Agentloom
        </div>
        <h1 id="login-title">Log in</h1>
        <label className="field">
          <span>Username</span>
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
            autoFocus
            data-testid="login-username"
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            data-testid="login-password"
          />
        </label>
        {error && (
          <p className="form-error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" className="button button-primary" disabled={busy} data-testid="login-submit">
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </div>
  );
}
