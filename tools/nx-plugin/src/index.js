'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS: see generators/consumer/generator.js */
module.exports = { consumerGenerator: require('./generators/consumer/generator').consumerGenerator };
