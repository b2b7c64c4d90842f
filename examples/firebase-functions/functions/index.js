// Firebase HTTPS functions, written exactly as for Firebase. Run: outpost dev examples/firebase-functions
import { onRequest } from 'firebase-functions/v2/https';
import { defineString } from 'firebase-functions/params';
import * as logger from 'firebase-functions/logger';

const greeting = defineString('GREETING');

// GET /hello?name=Ada → {"message":"Hello, Ada!"}
export const hello = onRequest((req, res) => {
  const name = req.query.name || 'World';
  logger.info('greeting', { name });
  res.json({ message: `${greeting.value()}, ${name}!` });
});

// POST /notes with JSON → 201 and the note back; other methods → 405
export const notes = onRequest({ cors: true }, (req, res) => {
  if (req.method !== 'POST') return void res.set('Allow', 'POST').status(405).send('Method Not Allowed');
  res.status(201).json({ saved: req.body, at: new Date().toISOString() });
});
