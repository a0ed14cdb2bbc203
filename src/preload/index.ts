/**
 * The preload: will expose one named function per operation of the contract in src/shared
 * (never raw ipcRenderer). The studio's operations arrive with the interface work.
 */
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('splitStudio', { version: '0.1.0' });
