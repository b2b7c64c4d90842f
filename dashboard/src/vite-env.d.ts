/**
 * @module
 * Types for what Vite handles beyond TypeScript (the CSS imports in main.tsx).
 */
/// <reference types="vite/client" />
