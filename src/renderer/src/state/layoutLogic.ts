/** Which side panels are collapsed, as remembered between launches (localStorage). */

export interface Panels {
  settingsCollapsed: boolean;
  galleryCollapsed: boolean;
}

export const PANELS_KEY = 'split-studio.panels';
export const OPEN_PANELS: Panels = { settingsCollapsed: false, galleryCollapsed: false };

/** The stored text as panels; anything unreadable (another version, a hand edit) opens both. */
export function readPanels(text: string | null): Panels {
  if (!text) return { ...OPEN_PANELS };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return { ...OPEN_PANELS };
    const v = value as Record<string, unknown>;
    return { settingsCollapsed: v.settingsCollapsed === true, galleryCollapsed: v.galleryCollapsed === true };
  } catch {
    return { ...OPEN_PANELS };
  }
}

export function writePanels(p: Panels): string {
  return JSON.stringify({ settingsCollapsed: p.settingsCollapsed, galleryCollapsed: p.galleryCollapsed });
}
