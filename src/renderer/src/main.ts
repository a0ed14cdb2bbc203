import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { createStudioApi } from './transport';

mount(App, { target: document.getElementById('app')!, props: { api: createStudioApi() } });
