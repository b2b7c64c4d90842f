/**
 * @module
 * Entry point: mounts the app. Styles (ours and uPlot's) are imported here so Vite bundles
 * them into one stylesheet.
 */
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { App } from './app.tsx';

const root = document.getElementById('app');
if (root) render(<App />, root);
