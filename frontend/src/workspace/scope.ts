/**
 * The workspace whose models and credentials a picker offers: the open workflow's (the editor provides
 * it, since a link may open a workflow of a workspace other than the current one), else the current one.
 */
import { createContext, useContext } from "react";
import { useSession } from "../session/store";

export const WorkspaceScope = createContext<string | null>(null);

export function useScopedWorkspace(): string | null {
  const scoped = useContext(WorkspaceScope);
  const current = useSession((s) => s.workspaceId);
  return scoped ?? current;
}
