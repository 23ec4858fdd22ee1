import { Dialog } from "../ui/Dialog";
import { NotificationsSection, type NotificationsProps } from "./NotificationsSection";
import { SchedulesSection } from "./SchedulesSection";
import { WebhooksSection } from "./WebhooksSection";

/**
 * What starts the workflow without a person, its schedules and webhooks, and who hears of a run's end
 * (docs/triggers.md).
 */
export function TriggersPanel({ onClose, ...notifications }: NotificationsProps & { onClose: () => void }) {
  return (
    <Dialog title="Triggers" onClose={onClose} testId="triggers-panel" wide>
      <SchedulesSection workflowId={notifications.workflowId} />
      <WebhooksSection workflowId={notifications.workflowId} />
      <NotificationsSection {...notifications} />
    </Dialog>
  );
}
