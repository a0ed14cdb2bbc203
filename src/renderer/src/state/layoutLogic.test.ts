import { describe, expect, it } from 'vitest';
import { OPEN_PANELS, readPanels, writePanels } from './layoutLogic';

describe('remembered panels', () => {
  it('reads back what it wrote', () => {
    for (const p of [OPEN_PANELS, { settingsCollapsed: true, galleryCollapsed: false }, { settingsCollapsed: true, galleryCollapsed: true }]) {
      expect(readPanels(writePanels(p))).toEqual(p);
    }
  });

  it('opens both panels for nothing stored or anything it cannot read', () => {
    for (const text of [null, '', 'not json', '42', 'null', '[]', '{"settingsCollapsed":"yes"}']) expect(readPanels(text)).toEqual(OPEN_PANELS);
  });
});
