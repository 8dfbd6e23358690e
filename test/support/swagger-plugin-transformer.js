// Runs the @nestjs/swagger compiler plugin under ts-jest with the options nest-cli.json gives it,
// so the OpenAPI document built in tests is the one `nest build` serves.
const transformer = require('@nestjs/swagger/plugin');
const nestCli = require('../../nest-cli.json');

const options = nestCli.compilerOptions.plugins.find((plugin) => plugin.name === '@nestjs/swagger').options;

module.exports.name = 'nestjs-swagger-transformer';
module.exports.version = 1;
module.exports.factory = (compiler) => transformer.before(options, compiler.program);
