import { render, screen } from "@testing-library/react";
import { createElement, Suspense } from "react";
import { describe, expect, it, vi } from "vitest";
import { preloadable, startEarly, takeEarly } from "./preload";

describe("preloadable", () => {
  it("renders the component directly once preloaded (no Suspense fallback)", async () => {
    const factory = vi.fn(async () => ({
      default: ({ who }: { who: string }) => createElement("p", null, `hello ${who}`),
    }));
    const Page = preloadable(factory);
    await Page.preload();
    await Page.preload();
    expect(factory).toHaveBeenCalledTimes(1);
    render(
      createElement(Suspense, { fallback: createElement("p", null, "loading") }, createElement(Page, { who: "you" })),
    );
    // Synchronously: no fallback was ever shown.
    expect(screen.queryByText("loading")).toBeNull();
    expect(screen.getByText("hello you")).toBeTruthy();
  });

  it("falls back to React.lazy when not preloaded", async () => {
    const Page = preloadable(async () => ({ default: () => createElement("p", null, "lazy page") }));
    render(createElement(Suspense, { fallback: createElement("p", null, "loading") }, createElement(Page)));
    expect(screen.getByText("loading")).toBeTruthy();
    expect(await screen.findByText("lazy page")).toBeTruthy();
  });
});

describe("startEarly / takeEarly", () => {
  it("hands an early request to its page once", async () => {
    const request = vi.fn(async () => 42);
    startEarly("k", request);
    startEarly("k", request);
    expect(request).toHaveBeenCalledTimes(1);
    expect(await takeEarly<number>("k")).toBe(42);
    expect(takeEarly("k")).toBeNull();
  });

  it("forgets a request older than 10 s", () => {
    vi.useFakeTimers();
    try {
      startEarly("old", async () => 1);
      vi.advanceTimersByTime(11_000);
      expect(takeEarly("old")).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
