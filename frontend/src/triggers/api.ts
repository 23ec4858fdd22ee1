/** The triggers endpoints (docs/triggers.md): schedules, webhook triggers and notifications of one workflow. */
import { fetchAll, request } from "../api/client";
import type { Page, Run } from "../api/types";
import type { components } from "../generated/api";

export type Schedule = components["schemas"]["Schedule"];
export type ScheduleInput = components["schemas"]["ScheduleRequest"];
export type FireTime = components["schemas"]["FireTime"];
export type Webhook = components["schemas"]["Webhook"];
export type WebhookCreated = components["schemas"]["WebhookCreated"];
export type WebhookInput = components["schemas"]["WebhookRequest"];
export type Notifications = components["schemas"]["Notifications"];
export type NotificationTarget = components["schemas"]["NotificationTarget"];
export type NotificationEvent = NotificationTarget["on"][number];
export type Delivery = components["schemas"]["Delivery"];

export const triggersApi = {
  schedules: (workflow: string) => fetchAll<Schedule>("schedules/", { workflow }),
  createSchedule: (body: ScheduleInput) => request<Schedule>("schedules/", { method: "POST", body }),
  patchSchedule: (id: string, body: Partial<ScheduleInput>) =>
    request<Schedule>(`schedules/${id}/`, { method: "PATCH", body }),
  deleteSchedule: (id: string) => request<void>(`schedules/${id}/`, { method: "DELETE" }),
  preview: (id: string, n = 5, signal?: AbortSignal) =>
    request<FireTime[]>(`schedules/${id}/preview/`, { query: { n }, ...(signal ? { signal } : {}) }),
  previewDraft: (cron: string, timezone: string, n = 5, signal?: AbortSignal) =>
    request<FireTime[]>("schedules/preview/", { query: { cron, timezone, n }, ...(signal ? { signal } : {}) }),

  webhooks: (workflow: string) => fetchAll<Webhook>("triggers/", { workflow }),
  createWebhook: (body: Pick<WebhookInput, "workflow" | "name"> & Partial<WebhookInput>) =>
    request<WebhookCreated>("triggers/", { method: "POST", body }),
  patchWebhook: (id: string, body: Partial<WebhookInput>) =>
    request<Webhook>(`triggers/${id}/`, { method: "PATCH", body }),
  deleteWebhook: (id: string) => request<void>(`triggers/${id}/`, { method: "DELETE" }),
  rotateSecret: (id: string) => request<{ secret: string }>(`triggers/${id}/rotate-secret/`, { method: "POST" }),
  /** The latest runs webhooks started (a workflow's runs know their trigger's kind, not which webhook). */
  webhookRuns: (workflow: string, signal?: AbortSignal) =>
    request<Page<Run>>("runs/", {
      query: { workflow, trigger: "webhook", page_size: 10 },
      ...(signal ? { signal } : {}),
    }).then((page) => page.results),

  notifications: (workflow: string, signal?: AbortSignal) =>
    request<Notifications>(`workflows/${workflow}/notifications/`, signal ? { signal } : {}),
  putNotifications: (workflow: string, body: Notifications) =>
    request<Notifications>(`workflows/${workflow}/notifications/`, { method: "PUT", body }),
  deliveries: (workflow: string, signal?: AbortSignal) =>
    request<Delivery[]>(`workflows/${workflow}/notifications/deliveries/`, signal ? { signal } : {}),
};
