
— scrutineer.test eVPK2+MHHUMPfr1RLoHVs+JsAvq6eEiiHxHOb5q/eYUMID7BbKTkR+NNLH+mai/SfHx0/nkjTlmLfR6DIbsNu/BJOgI=
