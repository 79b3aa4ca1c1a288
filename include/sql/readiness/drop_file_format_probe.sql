drop file format if exists {database}.{schema}.{probe}
