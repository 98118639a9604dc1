# citymetrics: one image for the platform (`start`) and the simulator (`simulate`).
# Dependency stage: production dependencies only; better-sqlite3 falls back to compiling when no prebuilt
# binary matches, hence the toolchain here and not in the runtime image.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Build stage: TypeScript is a development dependency, so the compile happens here, not at run time.
FROM deps AS build
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    DATA_DIR=/data \
    HTTP_HOST=0.0.0.0 \
    MQTT_HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
# package.json marks dist's .js files as ES modules.
COPY package.json ./
COPY --from=build /app/dist ./dist
RUN mkdir -p /data /sim && chown node:node /data /sim
USER node
VOLUME ["/data"]
# 3000 HTTP (API, live page, /metrics), 1883 MQTT/TCP, 9001 MQTT/WebSocket
EXPOSE 3000 1883 9001
HEALTHCHECK --interval=15s --timeout=5s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:3000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node itself is PID 1: SIGTERM (docker stop) reaches the platform's graceful stop directly.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["start"]
