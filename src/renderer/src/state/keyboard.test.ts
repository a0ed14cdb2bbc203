import { describe, expect, it } from 'vitest';
import { isField, type KeyContext, keyAction, type KeyPress } from './keyboard';

const press = (key: string, mods: Partial<KeyPress> = {}): KeyPress => ({ key, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });
const idle: KeyContext = { inField: false, viewerOpen: false, detailOpen: false, jobBusy: false };

describe('keyAction', () => {
  it('Ctrl+Enter and Cmd+Enter generate from anywhere, text fields included; plain Enter is the field’s', () => {
    expect(keyAction(press('Enter', { ctrlKey: true }), idle)).toBe('generate');
    expect(keyAction(press('Enter', { metaKey: true }), { ...idle, inField: true })).toBe('generate');
    expect(keyAction(press('Enter'), { ...idle, inField: true })).toBeNull();
    expect(keyAction(press('Enter'), idle)).toBeNull();
  });

  it('Escape closes what is on top first: the viewer, then the detail, then cancels the job', () => {
    const all = { ...idle, viewerOpen: true, detailOpen: true, jobBusy: true };
    expect(keyAction(press('Escape'), all)).toBe('close-viewer');
    expect(keyAction(press('Escape'), { ...all, viewerOpen: false })).toBe('close-detail');
    expect(keyAction(press('Escape'), { ...all, viewerOpen: false, detailOpen: false })).toBe('cancel-job');
    expect(keyAction(press('Escape'), idle)).toBeNull();
    // also from inside a text field (the prompt has focus while a run goes)
    expect(keyAction(press('Escape'), { ...idle, inField: true, jobBusy: true })).toBe('cancel-job');
  });

  it('arrow keys move the gallery selection, a row for up and down, never inside a field', () => {
    expect(keyAction(press('ArrowLeft'), idle)).toBe('select-prev');
    expect(keyAction(press('ArrowRight'), idle)).toBe('select-next');
    expect(keyAction(press('ArrowUp'), idle)).toBe('select-up');
    expect(keyAction(press('ArrowDown'), idle)).toBe('select-down');
    for (const key of ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Delete', '1', '+']) {
      expect(keyAction(press(key), { ...idle, inField: true, viewerOpen: true, detailOpen: true })).toBeNull();
    }
    // Alt+Left is the browser's Back; Shift+arrows select text in Electron's menus: not ours with Alt
    expect(keyAction(press('ArrowLeft', { altKey: true }), idle)).toBeNull();
  });

  it('in the viewer left and right step, up and down do nothing, and number keys zoom', () => {
    const v = { ...idle, viewerOpen: true, detailOpen: true };
    expect(keyAction(press('ArrowRight'), v)).toBe('select-next');
    expect(keyAction(press('ArrowUp'), v)).toBeNull();
    expect(keyAction(press('0'), v)).toBe('zoom-fit');
    expect(keyAction(press('4'), v)).toBe('zoom-4');
    expect(keyAction(press('+'), v)).toBe('zoom-in');
    expect(keyAction(press('-'), v)).toBe('zoom-out');
    // digits outside the viewer are nobody's (no accidental zoom state changes)
    expect(keyAction(press('2'), idle)).toBeNull();
  });

  it('Delete trashes only with something selected; Ctrl+Z undoes outside fields', () => {
    expect(keyAction(press('Delete'), idle)).toBeNull();
    expect(keyAction(press('Delete'), { ...idle, detailOpen: true })).toBe('trash');
    expect(keyAction(press('z', { ctrlKey: true }), idle)).toBe('undo-trash');
    expect(keyAction(press('Z', { metaKey: true }), idle)).toBe('undo-trash');
    expect(keyAction(press('z', { ctrlKey: true, shiftKey: true }), idle)).toBeNull();
    expect(keyAction(press('z', { ctrlKey: true }), { ...idle, inField: true })).toBeNull();
    expect(keyAction(press('a', { ctrlKey: true }), idle)).toBeNull();
  });
});

describe('isField', () => {
  it('text, numbers, sliders, selects and editable text keep their keys; buttons and checkboxes do not', () => {
    expect(isField({ tagName: 'TEXTAREA' })).toBe(true);
    expect(isField({ tagName: 'SELECT' })).toBe(true);
    expect(isField({ tagName: 'INPUT', type: 'text' })).toBe(true);
    expect(isField({ tagName: 'INPUT', type: 'range' })).toBe(true);
    expect(isField({ tagName: 'INPUT', type: 'number' })).toBe(true);
    expect(isField({ tagName: 'INPUT', type: 'search' })).toBe(true);
    expect(isField({ tagName: 'DIV', isContentEditable: true })).toBe(true);
    expect(isField({ tagName: 'INPUT', type: 'checkbox' })).toBe(false);
    expect(isField({ tagName: 'BUTTON' })).toBe(false);
    expect(isField({ tagName: 'CANVAS' })).toBe(false);
    expect(isField(null)).toBe(false);
  });
});
